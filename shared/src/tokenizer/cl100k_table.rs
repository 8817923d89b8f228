//! The layout of the `cl100k_base` vocabulary as the build script writes it
//! and the tokenizer reads it in place, so loading it costs nothing at run
//! time. Included by `build.rs` and by `ingest::cl100k`: one definition for
//! the writer and the reader.
//!
//! Little-endian `u32`s, then bytes:
//! `[count] [offsets; count + 1] [slots; SLOTS] [token bytes...]`.
//! Token `r`'s bytes are `bytes[offsets[r]..offsets[r + 1]]`; a slot holds
//! `r + 1`, or 0 when empty, and a token sits in the first free slot from
//! its hash on (linear probing).

/// Slots of the open-addressed table: a power of two, a little under 40 %
/// full with cl100k's 100,256 tokens, so a missed lookup (most of them,
/// while merging) probes a slot or two.
pub const SLOTS: usize = 1 << 18;

/// FNV-1a, folded to a slot. Any hash works as long as both sides use this
/// one; FNV is short and spreads the vocabulary's short byte strings well.
pub fn slot_of(bytes: &[u8]) -> usize {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (hash ^ (hash >> 32)) as usize & (SLOTS - 1)
}
