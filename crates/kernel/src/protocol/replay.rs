//! Refusing replays: a signed message seen once is not accepted again.
//!
//! A signature proves who wrote a message, not that it is new: someone who captured a signed
//! `execute_request` could send the same frames again and run the cell twice. Every message
//! carries a fresh `msg_id` and date in its signed header, so two genuine messages never
//! share a signature, and jupyter_client's `Session` refuses a signature it has seen. So does
//! this history, shared by all the kernel's sockets. It holds the most recent
//! [`CAPACITY`] signatures (2 MiB); the oldest is forgotten first.

use super::signing::Digest;
use std::collections::{HashSet, VecDeque};

/// How many signatures are remembered (jupyter_client keeps 2^16 too).
pub(crate) const CAPACITY: usize = 1 << 16;

/// The signatures of the most recent accepted messages.
pub(crate) struct SeenSignatures {
    capacity: usize,
    oldest_first: VecDeque<Digest>,
    seen: HashSet<Digest>,
}

impl SeenSignatures {
    pub(crate) fn new(capacity: usize) -> SeenSignatures {
        SeenSignatures {
            capacity,
            oldest_first: VecDeque::with_capacity(capacity.min(1024)),
            seen: HashSet::with_capacity(capacity.min(1024)),
        }
    }

    /// Records `digest`; false if it was already there (a replay).
    pub(crate) fn first_time(&mut self, digest: Digest) -> bool {
        if !self.seen.insert(digest) {
            return false;
        }
        self.oldest_first.push_back(digest);
        if self.oldest_first.len() > self.capacity {
            if let Some(forgotten) = self.oldest_first.pop_front() {
                self.seen.remove(&forgotten);
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(n: u8) -> Digest {
        [n; 32]
    }

    #[test]
    fn a_signature_is_accepted_once_and_the_oldest_is_forgotten_first() {
        let mut history = SeenSignatures::new(2);
        assert!(history.first_time(digest(1)));
        assert!(!history.first_time(digest(1)));
        assert!(history.first_time(digest(2)));
        assert!(history.first_time(digest(3)));
        // 1 was pushed out by 3; 2 and 3 are still refused.
        assert!(!history.first_time(digest(2)));
        assert!(!history.first_time(digest(3)));
        assert!(history.first_time(digest(1)));
    }
}
