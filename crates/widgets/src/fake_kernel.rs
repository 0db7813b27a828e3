//! A pure-Rust fake of the kernel's end of the bridge socket, for the library's unit tests.

use crate::session::Session;
use crate::wire::BridgeMessage;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(10);

/// Plays the kernel: acknowledges every request of the library and records it.
pub(crate) struct FakeKernel {
    published: Receiver<BridgeMessage>,
    done: Receiver<u64>,
    writer: Arc<Mutex<Option<UnixStream>>>,
    next_seq: u64,
    _dir: TempDir,
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl FakeKernel {
    /// Listens on a fresh socket and gives this thread a session connected to it.
    pub(crate) fn start(name: &str) -> FakeKernel {
        let dir = std::env::temp_dir().join(format!(
            "flow-edge-widgets-test-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("bridge.sock");
        let listener = UnixListener::bind(&path).expect("bind fake kernel socket");
        let (published_tx, published) = mpsc::channel();
        let (done_tx, done) = mpsc::channel();
        let writer: Arc<Mutex<Option<UnixStream>>> = Arc::new(Mutex::new(None));
        let acceptor_writer = Arc::clone(&writer);
        thread::spawn(move || {
            let Ok((stream, _)) = listener.accept() else {
                return;
            };
            *acceptor_writer.lock().unwrap() = Some(stream.try_clone().unwrap());
            for line in BufReader::new(stream).lines() {
                let Ok(line) = line else { return };
                let message = BridgeMessage::from_line(&line).expect("library sends valid lines");
                match message {
                    BridgeMessage::Done { seq } => {
                        let _ = done_tx.send(seq);
                    }
                    request => {
                        // Recorded before the ack, so once the library goes on, the test sees it.
                        let ack = BridgeMessage::Ack { seq: request.seq() }.to_line();
                        let _ = published_tx.send(request);
                        let mut guard = acceptor_writer.lock().unwrap();
                        guard.as_mut().unwrap().write_all(ack.as_bytes()).unwrap();
                    }
                }
            }
        });
        Session::use_in_this_thread(Session::new(Some(path)));
        FakeKernel {
            published,
            done,
            writer,
            next_seq: 1000,
            _dir: TempDir(dir),
        }
    }

    pub(crate) fn next_published(&self) -> BridgeMessage {
        self.published
            .recv_timeout(WAIT)
            .expect("the library published a message")
    }

    /// Drops what was published so far (widget creation) and returns it.
    pub(crate) fn drain(&self) -> Vec<BridgeMessage> {
        self.published.try_iter().collect()
    }

    /// Sends a frontend comm message and waits until the library says it is done;
    /// returns what the library published meanwhile.
    pub(crate) fn frontend_sends(&mut self, comm_id: &str, data: Value) -> Vec<BridgeMessage> {
        self.frontend_request(|seq| BridgeMessage::CommMsg {
            seq,
            comm_id: comm_id.to_owned(),
            data,
            metadata: json!({}),
        })
    }

    /// The frontend closes comm `comm_id` (a view's model went away).
    pub(crate) fn frontend_closes(&mut self, comm_id: &str) -> Vec<BridgeMessage> {
        self.frontend_request(|seq| BridgeMessage::CommClose {
            seq,
            comm_id: comm_id.to_owned(),
            data: json!({}),
        })
    }

    fn frontend_request(&mut self, build: impl FnOnce(u64) -> BridgeMessage) -> Vec<BridgeMessage> {
        self.next_seq += 1;
        let seq = self.next_seq;
        let line = build(seq).to_line();
        let mut guard = self.writer.lock().unwrap();
        guard
            .as_mut()
            .expect("library connected")
            .write_all(line.as_bytes())
            .unwrap();
        drop(guard);
        let finished = self.done.recv_timeout(WAIT).expect("library answered done");
        assert_eq!(finished, seq);
        self.drain()
    }
}

pub(crate) fn comm_msg_data(message: &BridgeMessage) -> (&str, &Value) {
    match message {
        BridgeMessage::CommMsg { comm_id, data, .. } => (comm_id, data),
        other => panic!("expected a comm_msg, got {other:?}"),
    }
}
