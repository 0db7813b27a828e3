//! The kernel's session (jupyter_client's `Session`, kernel side): its id, its key, and the
//! signatures already seen. It seals what the kernel sends and opens what it receives.

use super::framing::{self, Decoded};
use super::replay::{SeenSignatures, CAPACITY};
use super::signing::Signer;
use super::sockets::Rejected;
use jupyter_protocol::JupyterMessage;
use std::ops::Deref;
use std::sync::{Mutex, PoisonError};

/// One per kernel, shared by its sockets.
pub(crate) struct Session {
    id: String,
    signer: Signer,
    seen: Mutex<SeenSignatures>,
}

impl Session {
    /// A session signing with `key`. An empty key turns signing off, which lets anyone who
    /// can reach the ports run code: that is said on stderr, as jupyter_client does.
    pub(crate) fn new(id: String, key: &str) -> Session {
        let signer = Signer::new(key);
        if !signer.signs() {
            eprintln!(
                "flow-edge-kernel: warning: the connection file's key is empty, so messages are \
                 neither signed nor checked: anyone who can reach the kernel's ports can run \
                 code as this user. Give the kernel a key (Jupyter does by default)."
            );
        }
        Session {
            id,
            signer,
            seen: Mutex::new(SeenSignatures::new(CAPACITY)),
        }
    }

    /// Verifies and parses `frames`: framing, signature, replay, then the JSON parts.
    pub(crate) fn open<F: Deref<Target = [u8]>>(
        &self,
        frames: &[F],
    ) -> Result<JupyterMessage, Rejected> {
        let split = framing::split(frames).map_err(Rejected::Framing)?;
        let digest = self
            .signer
            .verify(split.parts, &split.signature[..])
            .map_err(Rejected::Signature)?;
        if let Some(digest) = digest {
            let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
            if !seen.first_time(digest) {
                return Err(Rejected::Replayed);
            }
        }
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
    fn a_sealed_message_opens_once_then_is_refused_as_a_replay() {
        let session = Session::new("kernel".into(), "key");
        let frames = session.seal(KernelInfoRequest {}.into()).unwrap();
        let opened = session.open(&frames).unwrap();
        assert_eq!(opened.header.session, "kernel");
        assert!(matches!(session.open(&frames), Err(Rejected::Replayed)));
        let stranger = Session::new("other".into(), "another key");
        assert!(matches!(
            stranger.open(&frames),
            Err(Rejected::Signature(_))
        ));
    }
}
