//! The `cl100k_base` tokenizer (OpenAI's embedding models), reading its
//! vocabulary in place from a table compiled into the binary.
//!
//! Hand-written because no crate loads fast: tiktoken-rs builds its maps
//! from the vocabulary's text at first use (about 100 ms and 26 MB of a
//! cold start, measured), and bpe-openai deserialises a 15 MB table (about
//! 45 ms). This is the same vocabulary (the build script reads it out of
//! tiktoken-rs), the same pre-split pattern, and byte-pair merging by rank,
//! so the counts are tiktoken's; the tests compare them on every sample.

use super::cl100k_table::{SLOTS, slot_of};
use regex_automata::meta::Regex;
use regex_automata::{Anchored, Input};
use std::sync::LazyLock;

/// `[count] [offsets; count + 1] [slots; SLOTS] [token bytes...]`.
static TABLE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/cl100k_base.table"));

/// cl100k_base's pre-split: contractions, words with a leading non-letter,
/// numbers of up to three digits, punctuation runs, line breaks, spaces.
///
/// tiktoken's pattern is `...|\s++$|\s*[\r\n]|\s+(?!\S)|\s`, for a
/// backtracking engine (fancy-regex). This is the same pattern without
/// what the regex crate's engine (several times faster here) lacks: its
/// possessive quantifiers are plain ones, which match the same in every
/// alternative since nothing after them could make a greedy one give back;
/// and its look-ahead `\s+(?!\S)`, a run of spaces that stops short of the
/// word after it, is `\s+` here, shortened by `split_end`.
const PATTERN: &str = r"'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s+$|\s*[\r\n]|\s+|\s";

static SPLIT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(PATTERN).expect("the cl100k pattern compiles"));

fn word(at: usize) -> usize {
    let bytes: [u8; 4] = TABLE[4 * at..4 * at + 4].try_into().expect("four bytes");
    u32::from_le_bytes(bytes) as usize
}

fn token_count() -> usize {
    word(0)
}

fn token_bytes(rank: usize) -> &'static [u8] {
    let base = 4 * (2 + token_count() + SLOTS);
    &TABLE[base + word(1 + rank)..base + word(2 + rank)]
}

/// The rank of `bytes` if they are one token.
fn rank(bytes: &[u8]) -> Option<u32> {
    let slots = 2 + token_count();
    let mut slot = slot_of(bytes);
    loop {
        let held = word(slots + slot);
        if held == 0 {
            return None;
        }
        if token_bytes(held - 1) == bytes {
            return Some((held - 1) as u32);
        }
        slot = (slot + 1) & (SLOTS - 1);
    }
}

/// Where the piece matched at `start..end` really ends. A match that ends
/// in a space or tab (not a line break) before the end of the text came from
/// `\s+`, the only alternative that can end that way, and the text goes on
/// with a non-space: tiktoken's `\s+(?!\S)` leaves that run's last space to
/// the word after it, unless the run is one space (then `\s` takes it).
fn split_end(text: &str, start: usize, end: usize) -> usize {
    let matched = &text[start..end];
    match matched.char_indices().next_back() {
        Some((last, space))
            if end < text.len() && last > 0 && space.is_whitespace() && !"\r\n".contains(space) =>
        {
            start + last
        }
        _ => end,
    }
}

/// Calls `token` with each token's length in bytes, in order.
fn each_token(text: &str, mut token: impl FnMut(usize)) {
    let mut done = 0;
    while done < text.len() {
        // Anchored: the pieces tile the text, so each starts where the last
        // ended, and no search for a start is needed. `search` keeps the
        // lazy DFA's states from call to call (a fresh cache per call, as
        // for every slice the chunker sizes, spent most of the time
        // rebuilding them).
        let input = Input::new(text).range(done..).anchored(Anchored::Yes);
        let Some(found) = SPLIT.search(&input) else {
            // Every character starts some alternative, so this does not
            // happen; should it, the rest is merged whole rather than lost.
            merge(&text.as_bytes()[done..], &mut token);
            return;
        };
        let end = split_end(text, found.start(), found.end());
        merge(&text.as_bytes()[done..end], &mut token);
        done = end;
    }
}

/// Byte-pair merging: start from single bytes (each one a token) and join
/// the neighbouring pair whose union has the lowest rank, the leftmost on a
/// tie, until no neighbouring pair is a token.
fn merge(piece: &[u8], token: &mut impl FnMut(usize)) {
    if piece.is_empty() {
        return;
    }
    if rank(piece).is_some() {
        token(piece.len());
        return;
    }
    // Where each part starts, then the end; `pair[i]` is the rank of parts
    // `i` and `i + 1` joined (None when not a token).
    let mut starts: Vec<usize> = (0..=piece.len()).collect();
    let joined = |starts: &[usize], i: usize| -> Option<u32> {
        (i + 2 < starts.len())
            .then(|| rank(&piece[starts[i]..starts[i + 2]]))
            .flatten()
    };
    let mut pair: Vec<Option<u32>> = (0..piece.len()).map(|i| joined(&starts, i)).collect();
    loop {
        let best = pair
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.map(|r| (r, i)))
            .min();
        let Some((_, i)) = best else { break };
        starts.remove(i + 1);
        pair.remove(i + 1);
        pair[i] = joined(&starts, i);
        if i > 0 {
            pair[i - 1] = joined(&starts, i - 1);
        }
    }
    for part in starts.windows(2) {
        token(part[1] - part[0]);
    }
}

/// How many tokens `text` is.
pub fn count(text: &str) -> usize {
    let mut tokens = 0;
    each_token(text, |_| tokens += 1);
    tokens
}

/// Where each of the text's tokens ends, as a byte offset, ascending.
pub fn token_ends(text: &str) -> Vec<usize> {
    let mut ends = Vec::with_capacity(text.len() / 4);
    let mut end = 0;
    each_token(text, |length| {
        end += length;
        ends.push(end);
    });
    ends
}

/// Compiles the pre-split pattern now (a couple of milliseconds), so the
/// first document does not.
pub fn warm_up() {
    LazyLock::force(&SPLIT);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn tiktoken_ends(text: &str) -> Vec<usize> {
        let bpe = tiktoken_rs::cl100k_base_singleton();
        let mut end = 0;
        bpe.encode_ordinary(text)
            .into_iter()
            .map(|token| {
                end += bpe.decode_bytes(&[token]).expect("a known token").len();
                end
            })
            .collect()
    }

    fn same_as_tiktoken(text: &str) {
        let expected = tiktoken_ends(text);
        assert_eq!(count(text), expected.len(), "count of {text:?}");
        assert_eq!(token_ends(text), expected, "tokens of {text:?}");
    }

    #[test]
    fn every_token_of_the_vocabulary_is_found_by_its_bytes() {
        for r in 0..token_count() {
            assert_eq!(rank(token_bytes(r)), Some(r as u32));
        }
        assert_eq!(rank(b"not one token at all"), None);
    }

    #[test]
    fn counts_are_tiktokens_on_a_long_real_document() {
        // The README: prose, code, tables, URLs, JSON, shell and Unicode.
        let readme = include_str!("../../../README.md");
        same_as_tiktoken(readme);
        for line in readme.lines() {
            same_as_tiktoken(line);
        }
    }

    #[test]
    fn counts_are_tiktokens_on_the_pre_splits_edge_cases() {
        for text in [
            "",
            " ",
            "hello world",
            "I'M here, you'Re there, it's THEIR'S",
            "trailing spaces   ",
            "   leading and\r\n\r\nCRLF\n\n\n",
            "1234567 12 3.14159 1,000,000",
            "naïve café ✓ 日本語のテキスト 한국어 emoji 👩‍👩‍👧‍👦🎉",
            "==================== ---- ***** ]]]]>>>>",
            "fn main() {\n    println!(\"{}\", x?);\n}\t\t\n",
            "tabs\tand\u{a0}no-break\u{2003}spaces",
            // The look-ahead the pattern applies by hand: runs of spaces
            // before a word, a line break, the end; one space alone.
            "a  b   c\t\td \u{a0}e\u{2003}\u{2003}f",
            "x \n  y\t\r\n z",
            "end with  ",
            "  ",
            " x",
            "ZALGO z̵̢̛̲a̴̡̛l̸̨͓g̷̢o̵",
        ] {
            same_as_tiktoken(text);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn counts_are_tiktokens_on_any_text(text in any::<String>()) {
            same_as_tiktoken(&text);
        }

        #[test]
        fn counts_are_tiktokens_on_wordy_text(
            parts in prop::collection::vec(
                prop_oneof![
                    "[a-zA-Z']{1,14}",
                    "[ \t\r\n\u{a0}\u{2003}]{1,5}",
                    "[0-9.,]{1,8}",
                    "[!-/:-@\\[-`{-~]{1,6}",
                    "[àéîõüßçñ€]{1,4}",
                ],
                0..200,
            )
        ) {
            same_as_tiktoken(&parts.concat());
        }
    }
}
