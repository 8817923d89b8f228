//! Grouping items into requests without crossing a provider's caps: at most
//! so many items and so much weight (tokens, bytes) per request, in order,
//! as few requests as a greedy fill allows.

use std::ops::Range;

/// OpenAI-compatible embeddings: at most 2,048 inputs per request.
pub const EMBED_MAX_INPUTS: usize = 2_048;
/// ... and at most 300,000 tokens per request.
pub const EMBED_MAX_TOKENS: usize = 300_000;
/// Pinecone upsert: at most 1,000 records per request.
pub const UPSERT_MAX_RECORDS: usize = 1_000;
/// ... and 2 MB per request; kept under by the JSON envelope's margin.
pub const UPSERT_MAX_BYTES: usize = 2 * 1024 * 1024 - 4 * 1024;

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("item {index} weighs {weight}, more than a whole request may ({max})")]
pub struct TooHeavy {
    pub index: usize,
    pub weight: usize,
    pub max: usize,
}

/// Consecutive ranges of `weights` such that no range has more than
/// `max_items` items or more than `max_weight` total weight.
pub fn greedy(
    weights: &[usize],
    max_items: usize,
    max_weight: usize,
) -> Result<Vec<Range<usize>>, TooHeavy> {
    let mut batches = Vec::new();
    let mut start = 0;
    let mut weight = 0;
    for (index, &w) in weights.iter().enumerate() {
        if w > max_weight {
            return Err(TooHeavy {
                index,
                weight: w,
                max: max_weight,
            });
        }
        if index - start == max_items || weight + w > max_weight {
            batches.push(start..index);
            start = index;
            weight = 0;
        }
        weight += w;
    }
    if start < weights.len() {
        batches.push(start..weights.len());
    }
    Ok(batches)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn no_batch_crosses_a_cap_and_every_item_is_sent_once_in_order(
            weights in prop::collection::vec(1usize..600, 0..5000),
            max_items in 1usize..3000,
        ) {
            let max_weight = 300_000;
            let batches = greedy(&weights, max_items, max_weight).unwrap();
            let mut next = 0;
            for batch in &batches {
                prop_assert_eq!(batch.start, next);
                prop_assert!(!batch.is_empty());
                prop_assert!(batch.len() <= max_items);
                prop_assert!(weights[batch.clone()].iter().sum::<usize>() <= max_weight);
                next = batch.end;
            }
            prop_assert_eq!(next, weights.len());
        }

        #[test]
        fn a_greedy_fill_leaves_no_batch_that_could_have_taken_the_next_item(
            weights in prop::collection::vec(1usize..600, 1..3000),
        ) {
            let batches = greedy(&weights, 2048, 300_000).unwrap();
            for pair in batches.windows(2) {
                let (a, b) = (&pair[0], &pair[1]);
                let fuller = weights[a.clone()].iter().sum::<usize>() + weights[b.start];
                prop_assert!(a.len() == 2048 || fuller > 300_000);
            }
        }
    }

    #[test]
    fn with_512_token_chunks_the_token_cap_binds_first() {
        let batches = greedy(&vec![512; 2000], EMBED_MAX_INPUTS, EMBED_MAX_TOKENS).unwrap();
        assert_eq!(batches[0].len(), 585);
        assert_eq!(batches.len(), 2000_usize.div_ceil(585));
    }

    #[test]
    fn an_item_heavier_than_a_request_is_an_error_not_a_lost_item() {
        assert_eq!(
            greedy(&[1, 10, 1], 5, 5),
            Err(TooHeavy {
                index: 1,
                weight: 10,
                max: 5
            })
        );
    }
}
