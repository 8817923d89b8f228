//! Token-aware, Markdown-aware chunks with overlap, counted with the
//! `cl100k_base` tokenizer (the one OpenAI's embedding models use).
//!
//! Defaults: chunks of 400 to 500 tokens, 50 tokens of overlap between
//! neighbours, split at the largest semantic boundary that fits (headings,
//! paragraphs, sentences, words) by `text-splitter`.

use crate::tokenizer::cl100k;
use text_splitter::{ChunkConfig, ChunkSizer, MarkdownSplitter, TextSplitter};

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

pub fn count_tokens(text: &str) -> usize {
    cl100k::count(text)
}

/// Sizes a chunk by tokenizing it alone.
struct ExactTokens;

impl ChunkSizer for ExactTokens {
    fn size(&self, chunk: &str) -> usize {
        count_tokens(chunk)
    }
}

fn config<S: ChunkSizer>(sizer: S) -> ChunkConfig<S> {
    ChunkConfig::new(CHUNK_MIN_TOKENS..CHUNK_MAX_TOKENS)
        .with_overlap(CHUNK_OVERLAP_TOKENS)
        .expect("the overlap is smaller than the chunk size")
        .with_sizer(sizer)
}

/// Token counts of slices of one text from a single tokenization of the
/// whole. The splitter sizes many overlapping candidate chunks, and
/// tokenizing each one afresh (mostly the tokenizer's regex pre-split) was
/// most of ingest's CPU time. No crate offers this, so it is written here.
///
/// A slice counts the whole text's tokens that lie inside it, plus its cut
/// edges tokenized on their own. That can be off by a token at an edge from
/// tokenizing the slice alone, so `chunk` counts every kept chunk exactly.
struct SliceTokenCounter<'t> {
    text: &'t str,
    /// Where each token of the whole text ends (byte offset), ascending.
    token_ends: Vec<usize>,
}

impl<'t> SliceTokenCounter<'t> {
    fn new(text: &'t str) -> Self {
        Self {
            text,
            token_ends: cl100k::token_ends(text),
        }
    }

    fn token_start(&self, index: usize) -> usize {
        index.checked_sub(1).map_or(0, |i| self.token_ends[i])
    }

    /// The slice's byte range in the text, if it is a slice of it.
    fn range_of(&self, slice: &str) -> Option<(usize, usize)> {
        let start = (slice.as_ptr() as usize).checked_sub(self.text.as_ptr() as usize)?;
        let end = start.checked_add(slice.len())?;
        (end <= self.text.len()).then_some((start, end))
    }

    fn count(&self, slice: &str) -> Option<usize> {
        let (start, end) = self.range_of(slice)?;
        let mut first = self.token_ends.partition_point(|&e| e <= start);
        if self.token_start(first) < start {
            first += 1;
        }
        let last = self.token_ends.partition_point(|&e| e <= end);
        if first >= last {
            return None;
        }
        // A token may end inside a multi-byte character; then `get` is None.
        let head = self.text.get(start..self.token_start(first))?;
        let tail = self.text.get(self.token_ends[last - 1]..end)?;
        Some(count_tokens(head) + (last - first) + count_tokens(tail))
    }
}

impl ChunkSizer for &SliceTokenCounter<'_> {
    fn size(&self, chunk: &str) -> usize {
        self.count(chunk).unwrap_or_else(|| count_tokens(chunk))
    }
}

/// Splits extracted text into chunks, in document order.
pub fn chunk(text: &str, kind: TextKind) -> Vec<Chunk> {
    let counter = SliceTokenCounter::new(text);
    let pieces: Vec<(usize, &str)> = match kind {
        TextKind::Markdown => MarkdownSplitter::new(config(&counter))
            .chunk_indices(text)
            .collect(),
        TextKind::Plain => TextSplitter::new(config(&counter))
            .chunk_indices(text)
            .collect(),
    };
    let mut chunks = Vec::with_capacity(pieces.len());
    for (start, piece) in pieces {
        let tokens = count_tokens(piece);
        if tokens <= CHUNK_MAX_TOKENS {
            chunks.push((start, piece, tokens));
            continue;
        }
        // Sized a token or two short at an edge: split again, exactly.
        for (offset, part) in TextSplitter::new(config(ExactTokens)).chunk_indices(piece) {
            chunks.push((start + offset, part, count_tokens(part)));
        }
    }
    chunks
        .into_iter()
        .enumerate()
        .map(|(index, (start, piece, tokens))| Chunk {
            index,
            text: piece.to_owned(),
            start,
            end: start + piece.len(),
            tokens,
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
    fn sizing_slices_from_one_tokenization_chunks_as_tokenizing_each_would() {
        let text = (0..300)
            .map(|i| {
                format!(
                    "## Part {i}\n\nNaïve customers ask about refund #{i}: it takes {} days. \
                     Shipping — by ferry — is slower.\n\n- one\n- two\n",
                    i % 7
                )
            })
            .collect::<String>();
        let exact: Vec<(usize, &str)> = MarkdownSplitter::new(config(ExactTokens))
            .chunk_indices(&text)
            .collect();
        let fast: Vec<(usize, String)> = chunk(&text, TextKind::Markdown)
            .into_iter()
            .map(|c| (c.start, c.text))
            .collect();
        assert_eq!(
            fast,
            exact
                .into_iter()
                .map(|(start, text)| (start, text.to_owned()))
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn empty_text_has_no_chunks() {
        assert!(chunk("", TextKind::Markdown).is_empty());
        assert!(chunk("  \n\n ", TextKind::Plain).is_empty());
    }
}
