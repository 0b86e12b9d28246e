//! A fast, non-cryptographic hasher for the engine's sets of small integer
//! keys (village codes, day numbers, interned names). The inputs are our own
//! counts, not attacker-chosen strings, so SipHash's protection buys nothing
//! and costs a third of the roll-up's time.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, Hasher};

/// Builds [`MixHasher`]s.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct MixBuild;

impl BuildHasher for MixBuild {
    type Hasher = MixHasher;
    fn build_hasher(&self) -> MixHasher {
        MixHasher(0)
    }
}

/// Folds each word in with MurmurHash3's 64-bit finaliser, so that every
/// input bit reaches the low bits the table indexes by (packed keys such as
/// `author << 32 | day` differ only in their high half).
#[derive(Debug, Clone, Copy)]
pub(crate) struct MixHasher(u64);

impl MixHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        let mut x = self.0 ^ word;
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 33;
        x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        x ^= x >> 33;
        self.0 = x;
    }
}

impl Hasher for MixHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

/// A set with the mixing hasher.
pub(crate) type FastSet<T> = HashSet<T, MixBuild>;
/// A map with the mixing hasher.
pub(crate) type FastMap<K, V> = HashMap<K, V, MixBuild>;
