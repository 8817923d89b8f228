//! Token-aware, Markdown-aware chunks with overlap, counted with the
//! `cl100k_base` tokenizer (the one OpenAI's embedding models use).
//!
//! Defaults: chunks of 400 to 500 tokens, 50 tokens of overlap between
//! neighbours, split at the largest semantic boundary that fits (headings,
//! paragraphs, sentences, words) by `text-splitter`.

use text_splitter::{ChunkConfig, MarkdownSplitter, TextSplitter};
use tiktoken_rs::CoreBPE;

pub const CHUNK_MIN_TOKENS: usize = 400;
pub const CHUNK_MAX_TOKENS: usize = 500;
pub const CHUNK_OVERLAP_TOKENS: usize = 50;

/// One piece of a document, with where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chunk {
    pub index: usize,
    pub text: String,
    /// Byte offsets of the chunk in the extracted text.
    pub start: usize,
    pub end: usize,
    pub tokens: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextKind {
    Markdown,
    Plain,
}

fn tokenizer() -> &'static CoreBPE {
    tiktoken_rs::cl100k_base_singleton()
}

pub fn count_tokens(text: &str) -> usize {
    tokenizer().encode_ordinary(text).len()
}

fn config() -> ChunkConfig<&'static CoreBPE> {
    ChunkConfig::new(CHUNK_MIN_TOKENS..CHUNK_MAX_TOKENS)
        .with_overlap(CHUNK_OVERLAP_TOKENS)
        .expect("the overlap is smaller than the chunk size")
        .with_sizer(tokenizer())
}

/// Splits extracted text into chunks, in document order.
pub fn chunk(text: &str, kind: TextKind) -> Vec<Chunk> {
    let pieces: Vec<(usize, &str)> = match kind {
        TextKind::Markdown => MarkdownSplitter::new(config())
            .chunk_indices(text)
            .collect(),
        TextKind::Plain => TextSplitter::new(config()).chunk_indices(text).collect(),
    };
    pieces
        .into_iter()
        .enumerate()
        .map(|(index, (start, piece))| Chunk {
            index,
            text: piece.to_owned(),
            start,
            end: start + piece.len(),
            tokens: count_tokens(piece),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn words() -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop_oneof![
                "[a-zA-Z]{1,12}",
                Just("\n\n".to_owned()),
                Just("# Heading\n".to_owned()),
                Just("- item\n".to_owned()),
                Just("naïve café ✓".to_owned()),
                "[0-9]{1,6}",
            ],
            0..3000,
        )
        .prop_map(|parts| parts.join(" "))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        #[test]
        fn no_text_is_lost_order_is_kept_and_every_chunk_fits(text in words(), markdown in any::<bool>()) {
            let kind = if markdown { TextKind::Markdown } else { TextKind::Plain };
            let chunks = chunk(&text, kind);
            let mut covered = vec![false; text.len()];
            let mut last_start = 0;
            for (i, c) in chunks.iter().enumerate() {
                prop_assert_eq!(c.index, i);
                prop_assert!(c.start >= last_start, "chunks come in document order");
                last_start = c.start;
                prop_assert_eq!(&text[c.start..c.end], c.text.as_str());
                prop_assert!(c.tokens <= CHUNK_MAX_TOKENS, "{} tokens", c.tokens);
                prop_assert!(!c.text.trim().is_empty());
                covered[c.start..c.end].iter_mut().for_each(|b| *b = true);
            }
            for (i, byte) in text.bytes().enumerate() {
                prop_assert!(covered[i] || byte.is_ascii_whitespace(), "byte {} lost", i);
            }
        }
    }

    #[test]
    fn a_long_document_becomes_several_overlapping_chunks() {
        let text = (0..400)
            .map(|i| format!("Sentence number {i} talks about refunds and shipping."))
            .collect::<Vec<_>>()
            .join(" ");
        let chunks = chunk(&text, TextKind::Plain);
        assert!(chunks.len() > 3);
        assert!(
            chunks.windows(2).all(|w| w[1].start < w[0].end),
            "neighbours overlap"
        );
        assert!(
            chunks[..chunks.len() - 1]
                .iter()
                .all(|c| c.tokens >= CHUNK_MIN_TOKENS - 60)
        );
    }

    #[test]
    fn empty_text_has_no_chunks() {
        assert!(chunk("", TextKind::Markdown).is_empty());
        assert!(chunk("  \n\n ", TextKind::Plain).is_empty());
    }
}
