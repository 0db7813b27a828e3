//! HMAC-SHA256 signatures of Jupyter messages, keyed by the connection file's `key`.
//!
//! The signature covers the four JSON parts (header, parent header, metadata, content), not
//! the binary buffers, and travels as lowercase hex in the frame after `<IDS|MSG>`. Whoever
//! holds the key may run code in the kernel; whoever does not can only have messages dropped.

use data_encoding::{HEXLOWER, HEXLOWER_PERMISSIVE};
use ring::hmac;
use std::fmt;
use std::ops::Deref;

/// The digest of one message, as the replay history remembers it.
pub(crate) type Digest = [u8; 32];

/// Why a message's signature was not accepted.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum SignatureError {
    /// The signature frame is empty while the kernel signs.
    Missing,
    /// The signature frame is not 64 hex digits.
    NotHex,
    /// The signature does not match the message: wrong key, or a changed message.
    Wrong,
}

impl fmt::Display for SignatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignatureError::Missing => write!(f, "unsigned, but the kernel requires signatures"),
            SignatureError::NotHex => write!(f, "the signature is not a hex HMAC-SHA256 digest"),
            SignatureError::Wrong => write!(f, "wrong signature"),
        }
    }
}

/// Signs and verifies with the key, or does neither when the key is empty.
pub(crate) struct Signer {
    key: Option<hmac::Key>,
}

impl Signer {
    /// A signer for `key`; an empty key means messages go unsigned and are not checked.
    pub(crate) fn new(key: &str) -> Signer {
        Signer {
            key: (!key.is_empty()).then(|| hmac::Key::new(hmac::HMAC_SHA256, key.as_bytes())),
        }
    }

    /// False when the key is empty: anyone who reaches the ports is trusted.
    pub(crate) fn signs(&self) -> bool {
        self.key.is_some()
    }

    /// The hex signature of the four JSON parts; empty when the kernel does not sign.
    pub(crate) fn sign<P: Deref<Target = [u8]>>(&self, parts: &[P]) -> String {
        match &self.key {
            Some(key) => HEXLOWER.encode(digest(key, parts).as_ref()),
            None => String::new(),
        }
    }

    /// Checks `signature` against the four JSON parts (in constant time). Returns the digest
    /// when the kernel signs, for the replay history; `None` when it does not.
    pub(crate) fn verify<P: Deref<Target = [u8]>>(
        &self,
        parts: &[P],
        signature: &[u8],
    ) -> Result<Option<Digest>, SignatureError> {
        let Some(key) = &self.key else {
            return Ok(None);
        };
        if signature.is_empty() {
            return Err(SignatureError::Missing);
        }
        let claimed: Digest = HEXLOWER_PERMISSIVE
            .decode(signature)
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or(SignatureError::NotHex)?;
        if !same_in_constant_time(digest(key, parts).as_ref(), &claimed) {
            return Err(SignatureError::Wrong);
        }
        Ok(Some(claimed))
    }
}

/// Compares every byte whatever the first difference, so the time taken tells a forger
/// nothing about how much of a guessed signature was right.
fn same_in_constant_time(computed: &[u8], claimed: &[u8]) -> bool {
    computed.len() == claimed.len()
        && computed
            .iter()
            .zip(claimed)
            .fold(0u8, |difference, (a, b)| difference | (a ^ b))
            == 0
}

fn digest<P: Deref<Target = [u8]>>(key: &hmac::Key, parts: &[P]) -> hmac::Tag {
    let mut context = hmac::Context::with_key(key);
    for part in parts {
        context.update(&part[..]);
    }
    context.sign()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PARTS: [&[u8]; 4] = [br#"{"msg_id":"1"}"#, b"{}", b"{}", br#"{"code":"1"}"#];

    #[test]
    fn a_signature_verifies_with_the_same_key_only() {
        let signer = Signer::new("secret");
        let signature = signer.sign(&PARTS);
        assert_eq!(signature.len(), 64);
        assert!(signer
            .verify(&PARTS, signature.as_bytes())
            .unwrap()
            .is_some());
        let other = Signer::new("other");
        assert_eq!(
            other.verify(&PARTS, signature.as_bytes()),
            Err(SignatureError::Wrong)
        );
        let mut changed = PARTS;
        changed[3] = br#"{"code":"2"}"#;
        assert_eq!(
            signer.verify(&changed, signature.as_bytes()),
            Err(SignatureError::Wrong)
        );
    }

    #[test]
    fn missing_and_garbled_signatures_are_refused_and_an_empty_key_checks_nothing() {
        let signer = Signer::new("secret");
        assert_eq!(signer.verify(&PARTS, b""), Err(SignatureError::Missing));
        assert_eq!(signer.verify(&PARTS, b"zz"), Err(SignatureError::NotHex));
        assert_eq!(signer.verify(&PARTS, b"abcd"), Err(SignatureError::NotHex));
        let unsigned = Signer::new("");
        assert!(!unsigned.signs());
        assert_eq!(unsigned.sign(&PARTS), "");
        assert_eq!(unsigned.verify(&PARTS, b"anything"), Ok(None));
    }
}
