//! Fitting an answer to SMS: which encoding a body needs (GSM-7 or UCS-2),
//! how many segments Twilio bills for it, and cutting an answer to the
//! segments one reply may cost, at a sentence.
//!
//! Hand-written: the two crates that count segments are unmaintained, and
//! the tables are GSM 03.38 as Twilio's own calculator has them
//! (TwilioDevEd/message-segment-calculator).

/// The basic GSM-7 set: one septet each.
const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// The extension table: an escape and the character, two septets each.
const GSM_EXTENSION: &str = "\u{c}^{}\\[~]|€";

/// Twilio refuses a longer body (error 21617); ten segments of either
/// encoding stay below it.
pub const MAX_BODY_CHARS: usize = 1600;
/// GSM-7 characters per segment once a message is split.
const GSM_PER_PART: usize = 153;
/// How many characters a token of an answer takes, as the history budget
/// estimates it: English averages about four.
const CHARS_PER_TOKEN: usize = 4;

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

/// The GSM-7 characters `max_segments` hold: 160 alone, 153 each when split.
pub fn gsm_capacity(max_segments: u32) -> usize {
    match max_segments {
        0 => 0,
        1 => 160,
        n => n as usize * GSM_PER_PART,
    }
}

/// The model's token cap for an answer that must fit `max_segments`: what
/// a plain-text answer of that many characters takes, so the customer pays
/// for no tokens that would be cut off.
pub fn tokens_that_fit(max_segments: u32) -> u32 {
    (gsm_capacity(max_segments) / CHARS_PER_TOKEN).max(1) as u32
}

/// The answer as one SMS body costing at most `max_segments`: whole when
/// it fits, else cut at its last sentence that fits (else at a word, else
/// between characters). Characters are never altered: emoji and text
/// outside GSM-7 stay intact (and cost UCS-2's smaller segments). `None`
/// for an answer with nothing in it.
pub fn fit_to_segments(answer: &str, max_segments: u32) -> Option<String> {
    let answer = answer.trim();
    if answer.is_empty() || max_segments == 0 {
        return None;
    }
    if segments(answer) <= max_segments && length(answer) <= MAX_BODY_CHARS {
        return Some(answer.to_owned());
    }
    // Segments only grow as a prefix grows, so the longest prefix that
    // fits bounds every cut; then back to a sentence or a word inside it.
    let ends: Vec<usize> = answer
        .char_indices()
        .map(|(index, c)| index + c.len_utf8())
        .collect();
    let fitting = |end: &usize| {
        segments(&answer[..*end]) <= max_segments && length(&answer[..*end]) <= MAX_BODY_CHARS
    };
    let fits = match ends.partition_point(fitting) {
        0 => 0,
        n => ends[n - 1],
    };
    let head = &answer[..fits];
    let cut = last_sentence_end(head)
        .or_else(|| head.rfind(char::is_whitespace).filter(|&i| i > 0))
        .unwrap_or(fits);
    let body = head[..cut].trim_end();
    (!body.is_empty()).then(|| body.to_owned())
}

/// A text that stopped mid-thought (a model cut off at its token cap), up
/// to its last whole sentence; the text itself when it has none.
pub fn to_last_sentence(text: &str) -> &str {
    last_sentence_end(text).map_or(text, |end| &text[..end])
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
        assert_eq!(
            fit_to_segments(" We open at 9. ", 1).as_deref(),
            Some("We open at 9.")
        );
        assert_eq!(fit_to_segments("  ", 3), None);
    }

    #[test]
    fn a_long_answer_is_cut_at_the_last_sentence_within_the_budget() {
        let sentence = "This sentence is exactly fifty characters long ok. ";
        let answer = sentence.repeat(40);
        for budget in 1..=10 {
            let body = fit_to_segments(&answer, budget).unwrap();
            assert!(segments(&body) <= budget, "{budget}: {}", segments(&body));
            assert!(body.ends_with('.'), "{body:?}");
            // Another sentence would not have fitted.
            assert!(segments(&format!("{body} {}", sentence.trim())) > budget);
        }
    }

    #[test]
    fn an_emoji_answer_is_budgeted_in_ucs2_segments() {
        let answer = "Yes! 😀 We open at nine. ".repeat(20);
        let body = fit_to_segments(&answer, 3).unwrap();
        assert_eq!(encoding(&body), Encoding::Ucs2);
        assert!(segments(&body) <= 3);
        assert!(length(&body) <= 3 * 67);
    }

    #[test]
    fn a_sentence_longer_than_the_budget_is_cut_at_a_word() {
        let answer = "word ".repeat(100);
        let body = fit_to_segments(&answer, 1).unwrap();
        assert!(body.len() <= 160 && body.ends_with("word"), "{body:?}");
    }

    #[test]
    fn a_cut_off_answer_ends_at_its_last_whole_sentence() {
        assert_eq!(
            to_last_sentence("We open at nine. We close at fi"),
            "We open at nine."
        );
        assert_eq!(to_last_sentence("no sentence here"), "no sentence here");
    }

    #[test]
    fn the_token_cap_follows_the_segment_budget() {
        assert_eq!(tokens_that_fit(1), 40);
        assert_eq!(tokens_that_fit(3), 114);
        assert_eq!(tokens_that_fit(10), 382);
    }

    proptest! {
        #[test]
        fn every_body_fits_its_budget_and_no_character_is_changed(
            answer in "[a-zA-Z0-9 .!?,😀é€{}\n]{0,4000}",
            budget in 1u32..=10,
        ) {
            let Some(body) = fit_to_segments(&answer, budget) else {
                prop_assert!(answer.trim().is_empty());
                return Ok(());
            };
            prop_assert!(segments(&body) <= budget);
            prop_assert!(length(&body) <= MAX_BODY_CHARS);
            prop_assert!(answer.trim().starts_with(&body));
            if segments(answer.trim()) <= budget {
                prop_assert_eq!(body, answer.trim());
            }
        }
    }
}
