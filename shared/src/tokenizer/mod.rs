//! OpenAI's `cl100k_base` tokenizer, compiled in (see `build.rs`): what the
//! ingest worker chunks by, and what counts an answer's tokens when the
//! model's provider reports none.

pub mod cl100k;
mod cl100k_table;
