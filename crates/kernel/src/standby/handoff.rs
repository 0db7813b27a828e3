//! The handoff between a starting kernel and a standby, JSON lines on the rendezvous socket:
//! the kernel's [`Request`], the standby's [`Reply`] and, after `Adopted`, the kernel's
//! [`Confirm`]. The standby binds the notebook's ports only after the confirmation, so a kernel
//! that gave up waiting (and serves the notebook itself) never finds them taken. Then the
//! connection stays open as the lifeline.
//!
//! Every read is bounded in size and time, and each side checks that the other is the same
//! user (`SO_PEERCRED`) before it trusts a byte: a peer can tie up a standby for at most
//! [`HANDOFF_TIMEOUT`] and make it read at most [`MAX_LINE_BYTES`].

use serde::{Deserialize, Serialize};
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::time::Duration;

/// How long either side waits for the other's line.
pub const HANDOFF_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest line either side reads (a connection file is well under 1 KiB).
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// What the starting kernel hands over.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Request {
    /// The configuration digest the kernel computed for itself.
    pub configuration: String,
    /// The connection file's text, as Jupyter wrote it.
    pub connection: String,
    /// The folder Jupyter started the kernel in (the notebook's); UTF-8 only.
    pub cwd: String,
}

/// The standby's answer.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub enum Reply {
    /// The standby now serves the connection file's sockets.
    Adopted,
    /// It does not (and the kernel serves the notebook itself).
    Refused(String),
}

/// The kernel's word that it stands in for the standby from now on.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Confirm {
    pub stand_in: bool,
}

/// The peer's process id, if it runs as this user; otherwise an error.
pub fn same_user_peer(stream: &UnixStream) -> io::Result<u32> {
    let mut credentials = libc::ucred {
        pid: 0,
        uid: 0,
        gid: 0,
    };
    let mut length = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: the buffer and its length describe `credentials`, which outlives the call.
    let status = unsafe {
        libc::getsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&mut credentials as *mut libc::ucred).cast(),
            &mut length,
        )
    };
    if status != 0 {
        return Err(io::Error::last_os_error());
    }
    let uid = super::settings::current_uid();
    if credentials.uid != uid {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!("peer runs as user {}, not {uid}", credentials.uid),
        ));
    }
    u32::try_from(credentials.pid)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "peer has no process id"))
}

/// Writes `message` as one JSON line.
pub fn send<T: Serialize>(stream: &mut UnixStream, message: &T) -> io::Result<()> {
    let mut line = serde_json::to_vec(message).map_err(io::Error::other)?;
    line.push(b'\n');
    stream.set_write_timeout(Some(HANDOFF_TIMEOUT))?;
    stream.write_all(&line)
}

/// Reads one JSON line of at most [`MAX_LINE_BYTES`] within [`HANDOFF_TIMEOUT`] (in total,
/// however the peer trickles it).
pub fn receive<T: for<'de> Deserialize<'de>>(stream: &mut UnixStream) -> io::Result<T> {
    let deadline = std::time::Instant::now() + HANDOFF_TIMEOUT;
    let mut line = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "no complete line in time",
            ));
        }
        stream.set_read_timeout(Some(left))?;
        let read = stream.read(&mut chunk)?;
        if read == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "closed before a line",
            ));
        }
        line.extend_from_slice(&chunk[..read]);
        if let Some(end) = line.iter().position(|&byte| byte == b'\n') {
            if end < line.len() - 1 {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "bytes after the line",
                ));
            }
            line.truncate(end);
            return serde_json::from_slice(&line)
                .map_err(|error| io::Error::new(io::ErrorKind::InvalidData, error));
        }
        if line.len() > MAX_LINE_BYTES {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("line longer than {MAX_LINE_BYTES} bytes"),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_crosses_and_the_peer_is_this_user() {
        let (mut kernel, mut standby) = UnixStream::pair().unwrap();
        assert_eq!(same_user_peer(&standby).unwrap(), std::process::id());
        let request = Request {
            configuration: "0123".into(),
            connection: "{\"ip\": \"127.0.0.1\"}".into(),
            cwd: "/home/a/notebooks".into(),
        };
        send(&mut kernel, &request).unwrap();
        assert_eq!(receive::<Request>(&mut standby).unwrap(), request);
        send(&mut standby, &Reply::Refused("sources changed".into())).unwrap();
        assert_eq!(
            receive::<Reply>(&mut kernel).unwrap(),
            Reply::Refused("sources changed".into())
        );
    }

    #[test]
    fn an_endless_line_is_cut_at_the_bound_and_a_silent_peer_at_the_timeout() {
        let (mut flooder, mut standby) = UnixStream::pair().unwrap();
        let writer = std::thread::spawn(move || {
            let block = vec![b'x'; 8192];
            while flooder.write_all(&block).is_ok() {}
        });
        let error = receive::<Request>(&mut standby).unwrap_err();
        assert!(error.to_string().contains("longer than"), "{error}");
        drop(standby);
        writer.join().unwrap();

        let (_silent, mut standby) = UnixStream::pair().unwrap();
        let started = std::time::Instant::now();
        let error = receive::<Request>(&mut standby).unwrap_err();
        assert!(
            matches!(
                error.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ),
            "{error}"
        );
        assert!(started.elapsed() < HANDOFF_TIMEOUT + Duration::from_secs(2));
    }
}
