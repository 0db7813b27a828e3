//! A fast hash for short keys that come from one day's file (addresses), where the standard
//! SipHash, built to resist crafted collisions, costs more than the rest of a row's work.
//!
//! Each 8-byte word is xored in, multiplied and folded (high bits shifted down), and the result
//! goes through splitmix64's finalizer so that the low bits hash tables use vary too. It is not
//! collision-resistant; the worst an adversary who forges flow records can do is slow the
//! heuristics down, never change their result.

use std::hash::{BuildHasherDefault, Hasher};

/// Word-at-a-time rotate-xor-multiply hasher.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct FastHasher {
    hash: u64,
}

/// Builds [`FastHasher`]s for `HashMap`.
pub(crate) type FastHash = BuildHasherDefault<FastHasher>;

const MULTIPLIER: u64 = 0x517c_c1b7_2722_0a95;

impl FastHasher {
    /// Folds one word in: xor, multiply, and shift the high bits back down so that the next
    /// word mixes with all of this one.
    fn add(&mut self, word: u64) {
        let z = (self.hash ^ word).wrapping_mul(MULTIPLIER);
        self.hash = z ^ (z >> 29);
    }
}

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word) ^ ((rest.len() as u64) << 59));
        }
    }

    fn write_u8(&mut self, byte: u8) {
        self.add(u64::from(byte));
    }

    /// Mixes the high bits down: the multiply only carries low bits up, and hash tables pick
    /// buckets with the low bits, which for text like `10.1.2.3` would barely vary.
    fn finish(&self) -> u64 {
        let mut z = self.hash;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::hash::BuildHasher;

    #[test]
    fn similar_addresses_hash_apart() {
        let build = FastHash::default();
        let hashes: HashSet<u64> = (0..=255)
            .flat_map(|a| (0..=255).map(move |b| format!("10.{a}.{b}.1")))
            .map(|ip| build.hash_one(ip.as_str()))
            .collect();
        assert_eq!(hashes.len(), 256 * 256);
        assert_ne!(build.hash_one("10.0.0.1"), build.hash_one("10.0.0.1\0"));
        // The low bits pick the bucket: they must vary as much as the whole hash.
        let buckets: HashSet<u64> = (0..=255)
            .map(|a| build.hash_one(format!("10.0.{a}.1").as_str()) & 0xfff)
            .collect();
        assert!(
            buckets.len() > 200,
            "only {} buckets of 256 keys",
            buckets.len()
        );
    }
}
