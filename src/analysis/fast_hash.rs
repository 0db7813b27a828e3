//! The hasher of the tables keyed by text from one day's file (the heuristics' numbering of
//! addresses, the panel index's interned fields), where the standard SipHash, built to resist
//! crafted collisions, costs more than the rest of a row's work.
//!
//! It is foldhash's fast variant (hashbrown's own default), seeded at random: as
//! fast as the hand-written hasher it replaced and as `rustc-hash` within noise (see
//! BENCHMARKS.md, "Hash tables of the heuristics and the panel index"), and an adversary who
//! forges flow records cannot compute colliding addresses ahead; the worst they could do is
//! slow the heuristics down, never change their result (no output depends on table order).

/// Builds the hashers of the tables keyed by a day's addresses.
///
/// The seedable variant keeps its whole seed in the table: foldhash's `RandomState` reads
/// part of it from a `static` each time it hashes, and under evcxr every cell links its own
/// copy of this crate, statics included, so a table built in one cell (the panel's index,
/// built by a preview) and searched from the next (a scoring) found none of its keys.
pub(crate) type FastHash = foldhash::fast::SeedableRandomState;

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
