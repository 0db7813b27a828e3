//! The Jupyter message on the wire: routing identities, `<IDS|MSG>`, the signature, four JSON
//! parts (header, parent header, metadata, content), then binary buffers.
//!
//! Splitting checks the frame count before it touches a part, so a short or odd message is an
//! error, never a panic. Parsing the JSON is split in two: a header that does not parse leaves
//! nobody to answer, a content that does not parse gets an error reply (see
//! [`super::bad_request`]).

use super::content_defaults;
use bytes::Bytes;
use jupyter_protocol::{Header, JupyterMessage, JupyterMessageContent};
use serde_json::Value;
use std::fmt;
use std::ops::Deref;

/// Delimiter between routing identities and the message.
const DELIMITER: &[u8] = b"<IDS|MSG>";

/// Why frames are not a Jupyter message.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum FramingError {
    /// No `<IDS|MSG>` frame.
    NoDelimiter,
    /// Fewer than the signature and four parts after the delimiter.
    TooShort { after_delimiter: usize },
}

impl fmt::Display for FramingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FramingError::NoDelimiter => write!(f, "no <IDS|MSG> delimiter"),
            FramingError::TooShort { after_delimiter } => write!(
                f,
                "{after_delimiter} frames after the delimiter (a signature and four parts needed)"
            ),
        }
    }
}

/// The frames of a message, sorted by role.
pub(crate) struct Split<'a, F> {
    pub(crate) identities: &'a [F],
    pub(crate) signature: &'a F,
    /// Header, parent header, metadata, content: what the signature covers.
    pub(crate) parts: &'a [F],
    pub(crate) buffers: &'a [F],
}

/// Sorts `frames` into identities, signature, JSON parts and buffers.
pub(crate) fn split<F: Deref<Target = [u8]>>(frames: &[F]) -> Result<Split<'_, F>, FramingError> {
    let delimiter = frames
        .iter()
        .position(|frame| &frame[..] == DELIMITER)
        .ok_or(FramingError::NoDelimiter)?;
    let (identities, rest) = frames.split_at(delimiter);
    let after_delimiter = &rest[1..];
    if after_delimiter.len() < 5 {
        return Err(FramingError::TooShort {
            after_delimiter: after_delimiter.len(),
        });
    }
    let (signature, after_signature) = (&after_delimiter[0], &after_delimiter[1..]);
    let (parts, buffers) = after_signature.split_at(4);
    Ok(Split {
        identities,
        signature,
        parts,
        buffers,
    })
}

/// What the JSON parts of a signed message say.
pub(crate) enum Decoded {
    /// A request the kernel's message types understand.
    Understood(JupyterMessage),
    /// The header parsed, the content does not fit its type: `message` carries the content
    /// as an unknown message, so a reply can still be parented to it.
    ContentRefused {
        message: JupyterMessage,
        problem: String,
    },
}

/// A part that is not the JSON it should be: nothing can be answered.
#[derive(Debug)]
pub(crate) struct UnreadablePart(pub(crate) String);

impl fmt::Display for UnreadablePart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Builds the typed message from the parts of a verified message.
pub(crate) fn decode<F: Deref<Target = [u8]>>(
    split: &Split<'_, F>,
) -> Result<Decoded, UnreadablePart> {
    let part = |index: usize, name: &str| -> Result<Value, UnreadablePart> {
        serde_json::from_slice(&split.parts[index][..])
            .map_err(|error| UnreadablePart(format!("{name} is not JSON: {error}")))
    };
    let header: Header = serde_json::from_value(part(0, "header")?)
        .map_err(|error| UnreadablePart(format!("header: {error}")))?;
    // Per the spec an empty parent header is `{}`, which is no header.
    let parent_header = serde_json::from_value(part(1, "parent header")?).ok();
    let metadata = part(2, "metadata")?;
    let content = part(3, "content")?;
    let typed = JupyterMessageContent::from_type_and_content(
        &header.msg_type,
        content_defaults::with_defaults(&header.msg_type, content.clone()),
    );
    let (content, problem) = match typed {
        Ok(content) => (content, None),
        Err(error) => {
            let problem = format!("{} content: {error}", header.msg_type);
            let unknown = jupyter_protocol::UnknownMessage {
                msg_type: header.msg_type.clone(),
                content,
            };
            (
                JupyterMessageContent::UnknownMessage(unknown),
                Some(problem),
            )
        }
    };
    let message = JupyterMessage {
        zmq_identities: copies(split.identities),
        header,
        parent_header,
        metadata,
        content,
        buffers: copies(split.buffers),
        channel: None,
    };
    Ok(match problem {
        None => Decoded::Understood(message),
        Some(problem) => Decoded::ContentRefused { message, problem },
    })
}

fn copies<F: Deref<Target = [u8]>>(frames: &[F]) -> Vec<Bytes> {
    frames
        .iter()
        .map(|frame| Bytes::copy_from_slice(&frame[..]))
        .collect()
}

/// The four JSON parts of an outgoing message.
pub(crate) fn encode_parts(message: &JupyterMessage) -> serde_json::Result<[Vec<u8>; 4]> {
    let parent = match &message.parent_header {
        Some(parent) => serde_json::to_vec(parent)?,
        None => b"{}".to_vec(),
    };
    Ok([
        serde_json::to_vec(&message.header)?,
        parent,
        serde_json::to_vec(&message.metadata)?,
        serde_json::to_vec(&message.content)?,
    ])
}

/// All frames of an outgoing message, given its parts and their signature.
pub(crate) fn join(
    message: &JupyterMessage,
    signature: String,
    parts: [Vec<u8>; 4],
) -> Vec<Vec<u8>> {
    let mut frames = Vec::with_capacity(message.zmq_identities.len() + 6 + message.buffers.len());
    frames.extend(message.zmq_identities.iter().map(|id| id.to_vec()));
    frames.push(DELIMITER.to_vec());
    frames.push(signature.into_bytes());
    frames.extend(parts);
    frames.extend(message.buffers.iter().map(|buffer| buffer.to_vec()));
    frames
}

#[cfg(test)]
mod tests {
    use super::*;
    use jupyter_protocol::KernelInfoRequest;

    fn frames(list: &[&[u8]]) -> Vec<Vec<u8>> {
        list.iter().map(|frame| frame.to_vec()).collect()
    }

    #[test]
    fn short_and_delimiterless_messages_are_errors_not_panics() {
        assert_eq!(
            split(&frames(&[b"garbage"])).err(),
            Some(FramingError::NoDelimiter)
        );
        assert_eq!(
            split(&frames(&[b"<IDS|MSG>"])).err(),
            Some(FramingError::TooShort { after_delimiter: 0 })
        );
        assert_eq!(
            split(&frames(&[b"id", b"<IDS|MSG>", b"sig", b"{}", b"{}", b"{}"])).err(),
            Some(FramingError::TooShort { after_delimiter: 4 })
        );
    }

    #[test]
    fn a_message_goes_out_and_comes_back_with_identities_and_buffers() {
        let mut message: JupyterMessage = KernelInfoRequest {}.into();
        message.zmq_identities = vec![Bytes::from_static(b"client")];
        message.buffers = vec![Bytes::from_static(b"\x00binary")];
        let parts = encode_parts(&message).unwrap();
        let wire = join(&message, "sig".into(), parts);
        let split = split(&wire).unwrap();
        assert_eq!(&split.signature[..], b"sig");
        let Ok(Decoded::Understood(back)) = decode(&split) else {
            panic!("the message did not decode");
        };
        assert_eq!(back.header.msg_id, message.header.msg_id);
        assert_eq!(back.zmq_identities, message.zmq_identities);
        assert_eq!(back.buffers, message.buffers);
        assert!(back.parent_header.is_none());
    }

    #[test]
    fn a_content_that_does_not_fit_its_type_keeps_the_header_for_the_reply() {
        let mut header =
            serde_json::to_value(JupyterMessage::new(KernelInfoRequest {}, None).header).unwrap();
        header["msg_type"] = "execute_request".into();
        let header = serde_json::to_vec(&header).unwrap();
        let wire = frames(&[b"<IDS|MSG>", b"", &header, b"{}", b"{}", br#"{"code": 5}"#]);
        let Ok(Decoded::ContentRefused { message, problem }) = decode(&split(&wire).unwrap())
        else {
            panic!("the content was not refused");
        };
        assert_eq!(message.header.msg_type, "execute_request");
        assert!(problem.starts_with("execute_request content:"), "{problem}");
        assert!(matches!(
            decode(&split(&frames(&[b"<IDS|MSG>", b"", b"{", b"{}", b"{}", b"{}"])).unwrap()),
            Err(UnreadablePart(_))
        ));
    }
}
