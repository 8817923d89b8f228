//! Fitting an answer to SMS: which encoding a body needs (GSM-7 or UCS-2),
//! how many segments Twilio bills for it, and splitting a long answer into
//! bodies Twilio accepts (at most 1,600 characters each).
//!
//! Hand-written: the two crates that count segments are unmaintained, and
//! the tables are GSM 03.38 as Twilio's own calculator has them
//! (TwilioDevEd/message-segment-calculator).

/// The basic GSM-7 set: one septet each.
const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// The extension table: an escape and the character, two septets each.
const GSM_EXTENSION: &str = "\u{c}^{}\\[~]|€";

/// Twilio refuses a longer body (error 21617).
pub const MAX_BODY_CHARS: usize = 1600;
/// A long answer is split into at most this many messages; what is left
/// after them is cut at a sentence boundary. Three full bodies are already
/// far beyond what anyone reads on a phone.
pub const MAX_PARTS: usize = 3;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Gsm7,
    Ucs2,
}

impl Encoding {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Gsm7 => "GSM-7",
            Self::Ucs2 => "UCS-2",
        }
    }
}

fn septets(c: char) -> Option<usize> {
    if GSM_BASIC.contains(c) {
        Some(1)
    } else if GSM_EXTENSION.contains(c) {
        Some(2)
    } else {
        None
    }
}

/// GSM-7 when every character is in the GSM tables; one character outside
/// them (an emoji, a curly quote) makes the whole message UCS-2.
pub fn encoding(body: &str) -> Encoding {
    if body.chars().all(|c| septets(c).is_some()) {
        Encoding::Gsm7
    } else {
        Encoding::Ucs2
    }
}

/// Segments Twilio sends for `body`: GSM-7 160 septets in one, 153 per part
/// when split; UCS-2 70 UTF-16 units in one, 67 per part. Counted by
/// packing, as the carrier does: an escape pair or a surrogate pair is never
/// split across two parts, so a part may hold one unit less.
pub fn segments(body: &str) -> u32 {
    let encoding = encoding(body);
    let (single, per_part) = match encoding {
        Encoding::Gsm7 => (160, 153),
        Encoding::Ucs2 => (70, 67),
    };
    let units = |c: char| match encoding {
        Encoding::Gsm7 => septets(c).unwrap_or(1),
        Encoding::Ucs2 => c.len_utf16(),
    };
    let total: usize = body.chars().map(units).sum();
    if total <= single {
        return 1;
    }
    let mut parts = 1;
    let mut used = 0;
    for c in body.chars() {
        let size = units(c);
        if used + size > per_part {
            parts += 1;
            used = 0;
        }
        used += size;
    }
    parts
}

/// Characters as Twilio's 1,600 limit counts them: UTF-16 units (an emoji
/// outside the BMP counts two), the stricter reading.
fn length(text: &str) -> usize {
    text.encode_utf16().count()
}

/// Splits an answer into SMS bodies of at most [`MAX_BODY_CHARS`], at
/// sentence boundaries where there is one (else at a word, else anywhere
/// between characters), at most [`MAX_PARTS`] of them. Characters are never
/// altered: emoji and text outside GSM-7 stay intact.
pub fn split_for_sms(answer: &str) -> Vec<String> {
    let mut rest = answer.trim();
    let mut parts = Vec::new();
    while !rest.is_empty() && parts.len() < MAX_PARTS {
        if length(rest) <= MAX_BODY_CHARS {
            parts.push(rest.to_owned());
            rest = "";
            break;
        }
        let cut = cut_point(rest, MAX_BODY_CHARS);
        parts.push(rest[..cut].trim_end().to_owned());
        rest = rest[cut..].trim_start();
    }
    if !rest.is_empty()
        && let Some(last) = parts.last_mut()
    {
        // Out of parts: end the last one at its last sentence rather than
        // mid-thought.
        if let Some(end) = last_sentence_end(last) {
            last.truncate(end);
        }
    }
    parts.retain(|p| !p.is_empty());
    parts
}

/// The byte index to cut `text` at so the head is at most `max` units.
fn cut_point(text: &str, max: usize) -> usize {
    let mut units = 0;
    let mut limit = text.len();
    for (index, c) in text.char_indices() {
        if units + c.len_utf16() > max {
            limit = index;
            break;
        }
        units += c.len_utf16();
    }
    let head = &text[..limit];
    last_sentence_end(head)
        .or_else(|| head.rfind(char::is_whitespace).filter(|&i| i > 0))
        .unwrap_or(limit)
}

/// Just after the last `.`, `!` or `?` (and any closing quote) that is
/// followed by white space or the end, if any.
fn last_sentence_end(text: &str) -> Option<usize> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    for i in (0..chars.len()).rev() {
        let (index, c) = chars[i];
        if matches!(c, '.' | '!' | '?' | '…') {
            let next = chars.get(i + 1).map(|&(_, n)| n);
            if next.is_none_or(char::is_whitespace) {
                return Some(index + c.len_utf8());
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn plain_text_is_gsm7_and_an_emoji_or_curly_quote_makes_it_ucs2() {
        assert_eq!(encoding("Hello, world! {} €"), Encoding::Gsm7);
        assert_eq!(encoding("Hello 😀"), Encoding::Ucs2);
        assert_eq!(encoding("“quoted”"), Encoding::Ucs2);
        assert_eq!(encoding("café"), Encoding::Gsm7, "é is in the GSM set");
        assert_eq!(encoding("ça"), Encoding::Ucs2, "lowercase ç is not");
    }

    #[test]
    fn gsm7_segments_are_160_then_153() {
        assert_eq!(segments(&"a".repeat(160)), 1);
        assert_eq!(segments(&"a".repeat(161)), 2);
        assert_eq!(segments(&"a".repeat(306)), 2);
        assert_eq!(segments(&"a".repeat(307)), 3);
    }

    #[test]
    fn extension_characters_count_two_septets() {
        assert_eq!(segments(&"{".repeat(80)), 1);
        assert_eq!(segments(&"{".repeat(81)), 2);
    }

    #[test]
    fn ucs2_segments_are_70_then_67_utf16_units() {
        assert_eq!(segments(&format!("{}😀", "a".repeat(68))), 1);
        assert_eq!(segments(&format!("{}😀", "a".repeat(69))), 2);
        assert_eq!(segments(&"ç".repeat(134)), 2);
        assert_eq!(segments(&"ç".repeat(135)), 3);
    }

    #[test]
    fn a_surrogate_pair_is_never_split_across_parts() {
        // 66 units then an emoji: the emoji does not fit in part one's 67,
        // so 134 units take three parts where division would say two.
        let body = format!("{}😀{}", "ç".repeat(66), "ç".repeat(66));
        assert_eq!(segments(&body), 3);
        let body = format!("{}😀{}", "ç".repeat(66), "ç".repeat(65));
        assert_eq!(segments(&body), 2);
    }

    #[test]
    fn a_short_answer_is_one_body_unchanged() {
        assert_eq!(split_for_sms(" We open at 9. "), vec!["We open at 9."]);
    }

    #[test]
    fn a_long_answer_splits_at_sentence_boundaries() {
        let sentence = "This sentence is exactly fifty characters long ok. ";
        let answer = sentence.repeat(40);
        let parts = split_for_sms(&answer);
        assert_eq!(parts.len(), 2);
        for part in &parts {
            assert!(length(part) <= MAX_BODY_CHARS);
            assert!(part.ends_with('.'), "{part:?}");
        }
    }

    #[test]
    fn beyond_three_parts_the_rest_is_cut_at_a_sentence() {
        let answer = "Short sentence here. ".repeat(400);
        let parts = split_for_sms(&answer);
        assert_eq!(parts.len(), MAX_PARTS);
        assert!(parts.iter().all(|p| p.ends_with('.')));
    }

    proptest! {
        #[test]
        fn every_body_fits_and_no_character_is_lost_or_changed(
            answer in "[a-zA-Z0-9 .!?,😀é€{}\n]{0,4000}"
        ) {
            let parts = split_for_sms(&answer);
            prop_assert!(parts.len() <= MAX_PARTS);
            for part in &parts {
                prop_assert!(length(part) <= MAX_BODY_CHARS);
                prop_assert!(!part.is_empty());
            }
            let joined: String = parts.concat().chars().filter(|c| !c.is_whitespace()).collect();
            let original: String = answer.chars().filter(|c| !c.is_whitespace()).collect();
            prop_assert!(original.starts_with(&joined));
            if length(answer.trim()) <= MAX_BODY_CHARS * MAX_PARTS / 2 {
                prop_assert_eq!(joined, original);
            }
        }
    }
}
