//! With the `tokenizer` feature (of `ingest` and `rag`), compiles the `cl100k_base` vocabulary into the
//! table `tokenizer::cl100k` reads in place (see `src/tokenizer/cl100k_table.rs`):
//! building tiktoken-rs's maps at cold start cost the ingest worker about
//! 100 ms and 26 MB. The vocabulary is tiktoken-rs's own, so both agree.

#[cfg(feature = "tokenizer")]
#[path = "src/tokenizer/cl100k_table.rs"]
mod cl100k_table;

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=src/tokenizer/cl100k_table.rs");
    #[cfg(feature = "tokenizer")]
    write_cl100k_table();
}

#[cfg(feature = "tokenizer")]
fn write_cl100k_table() {
    use cl100k_table::{SLOTS, slot_of};
    let bpe = tiktoken_rs::cl100k_base().expect("tiktoken-rs carries cl100k_base");
    // Ordinary tokens have the ranks 0..n with no gap; the special ones
    // (from 100,257) are never produced by ordinary encoding.
    let tokens: Vec<Vec<u8>> = (0..)
        .map_while(|rank| bpe.decode_bytes(&[rank]).ok())
        .collect();
    let count = tokens.len();
    assert_eq!(count, 100_256, "cl100k_base has 100,256 ordinary tokens");
    let mut offsets = Vec::with_capacity(count + 1);
    let mut bytes = Vec::new();
    for token in &tokens {
        offsets.push(u32::try_from(bytes.len()).expect("the vocabulary is small"));
        bytes.extend_from_slice(token);
    }
    offsets.push(u32::try_from(bytes.len()).expect("the vocabulary is small"));
    let mut slots = vec![0u32; SLOTS];
    for (rank, token) in tokens.iter().enumerate() {
        let mut slot = slot_of(token);
        while slots[slot] != 0 {
            slot = (slot + 1) & (SLOTS - 1);
        }
        slots[slot] = u32::try_from(rank + 1).expect("ranks fit in u32");
    }
    let mut table = Vec::with_capacity(4 * (2 + count + SLOTS) + bytes.len());
    table.extend_from_slice(&u32::try_from(count).expect("fits").to_le_bytes());
    for value in offsets.iter().chain(&slots) {
        table.extend_from_slice(&value.to_le_bytes());
    }
    table.extend_from_slice(&bytes);
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out.join("cl100k_base.table"), table).expect("OUT_DIR is writable");
}
