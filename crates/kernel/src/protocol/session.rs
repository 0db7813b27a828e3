//! The kernel's session (jupyter_client's `Session`, kernel side): its id and its key. It
//! seals what the kernel sends and opens what it receives.

use super::framing::{self, Decoded};
use super::signing::Signer;
use super::sockets::Rejected;
use jupyter_protocol::JupyterMessage;
use std::ops::Deref;

/// One per kernel, shared by its sockets.
pub(crate) struct Session {
    id: String,
    signer: Signer,
}

impl Session {
    /// A session signing with `key`; an empty key turns signing off.
    pub(crate) fn new(id: String, key: &str) -> Session {
        Session {
            id,
            signer: Signer::new(key),
        }
    }

    /// Verifies and parses `frames`: framing, signature, then the JSON parts.
    pub(crate) fn open<F: Deref<Target = [u8]>>(
        &self,
        frames: &[F],
    ) -> Result<JupyterMessage, Rejected> {
        let split = framing::split(frames).map_err(Rejected::Framing)?;
        self.signer
            .verify(split.parts, &split.signature[..])
            .map_err(Rejected::Signature)?;
        match framing::decode(&split).map_err(Rejected::Unreadable)? {
            Decoded::Understood(message) => Ok(message),
            Decoded::ContentRefused { message, problem } => Err(Rejected::ContentRefused {
                message: Box::new(message),
                problem,
            }),
        }
    }

    /// The frames of `message`, sent in this session's name and signed.
    pub(crate) fn seal(&self, message: JupyterMessage) -> serde_json::Result<Vec<Vec<u8>>> {
        let message = message.with_session(&self.id);
        let parts = framing::encode_parts(&message)?;
        let signature = self.signer.sign(&parts);
        Ok(framing::join(&message, signature, parts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jupyter_protocol::KernelInfoRequest;

    #[test]
    fn a_sealed_message_opens_with_the_same_key_only() {
        let session = Session::new("kernel".into(), "key");
        let frames = session.seal(KernelInfoRequest {}.into()).unwrap();
        let opened = session.open(&frames).unwrap();
        assert_eq!(opened.header.session, "kernel");
        let stranger = Session::new("other".into(), "another key");
        assert!(matches!(
            stranger.open(&frames),
            Err(Rejected::Signature(_))
        ));
    }
}
