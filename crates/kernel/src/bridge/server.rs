//! The bridge server: accepts the widgets library, publishes what it sends, forwards the
//! frontend's comm messages to it.
//!
//! One library connection is live at a time. A new connection (evcxr restarted its
//! subprocess, so the library's `static` is fresh) replaces the old one; callbacks the old
//! one still owed are given up so the shell loop does not wait for a dead process.

use super::CommRegistry;
use crate::protocol::iopub::{CurrentRequest, Publisher};
use flow_edge_widgets::wire::{BridgeMessage, StreamName};
use jupyter_protocol::{
    CommClose, CommId, CommMsg, CommOpen, JupyterMessageContent, StreamContent,
};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::UnixListener;
use tokio::sync::oneshot;

/// Why a frontend comm message could not be handed to the library.
#[derive(Debug)]
pub(crate) enum ForwardError {
    /// No library connected: no widget was created since evcxr (re)started.
    NotConnected,
    /// The socket write failed (the library's process died).
    Write(std::io::Error),
}

impl fmt::Display for ForwardError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ForwardError::NotConnected => write!(f, "no widgets library is connected"),
            ForwardError::Write(error) => {
                write!(f, "writing to the widgets library failed: {error}")
            }
        }
    }
}

/// One accepted library connection.
struct Link {
    generation: u64,
    writer: tokio::sync::Mutex<OwnedWriteHalf>,
}

impl Link {
    async fn write(&self, message: &BridgeMessage) -> std::io::Result<()> {
        let mut writer = self.writer.lock().await;
        writer.write_all(message.to_line().as_bytes()).await?;
        writer.flush().await
    }
}

struct Inner {
    active: Mutex<Option<Arc<Link>>>,
    pending_done: Mutex<HashMap<u64, oneshot::Sender<()>>>,
    next_seq: AtomicU64,
    generations: AtomicU64,
    publisher: Publisher,
    current: CurrentRequest,
    comms: CommRegistry,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Handle to the bridge server.
#[derive(Clone)]
pub(crate) struct Bridge {
    inner: Arc<Inner>,
}

impl Bridge {
    /// Listens on `socket_path` and starts accepting the library.
    pub(crate) fn listen(
        socket_path: &Path,
        publisher: Publisher,
        current: CurrentRequest,
        comms: CommRegistry,
    ) -> std::io::Result<Bridge> {
        let listener = UnixListener::bind(socket_path)?;
        let bridge = Bridge {
            inner: Arc::new(Inner {
                active: Mutex::new(None),
                pending_done: Mutex::new(HashMap::new()),
                next_seq: AtomicU64::new(1),
                generations: AtomicU64::new(0),
                publisher,
                current,
                comms,
            }),
        };
        let accepting = bridge.clone();
        tokio::spawn(async move { accepting.accept_forever(listener).await });
        Ok(bridge)
    }

    async fn accept_forever(self, listener: UnixListener) {
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    let (reader, writer) = stream.into_split();
                    let link = Arc::new(Link {
                        generation: self.inner.generations.fetch_add(1, Ordering::SeqCst) + 1,
                        writer: tokio::sync::Mutex::new(writer),
                    });
                    self.replace_link(Some(Arc::clone(&link)));
                    let reading = self.clone();
                    tokio::spawn(async move { reading.read_library(link, reader).await });
                }
                Err(error) => {
                    eprintln!("flow-edge-kernel: bridge accept failed: {error}");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            }
        }
    }

    /// Makes `link` the live connection; whatever the previous one owed is given up.
    fn replace_link(&self, link: Option<Arc<Link>>) {
        *lock(&self.inner.active) = link;
        // Dropping the senders wakes the waiters with an error.
        lock(&self.inner.pending_done).clear();
        self.inner.comms.forget_library_comms();
    }

    async fn read_library(self, link: Arc<Link>, reader: OwnedReadHalf) {
        let mut lines = BufReader::new(reader).lines();
        loop {
            match lines.next_line().await {
                Ok(Some(line)) => match BridgeMessage::from_line(&line) {
                    Ok(message) => self.handle_library_message(&link, message).await,
                    Err(error) => eprintln!("flow-edge-kernel: from the widgets library: {error}"),
                },
                Ok(None) => break,
                Err(error) => {
                    eprintln!("flow-edge-kernel: reading the widgets library failed: {error}");
                    break;
                }
            }
        }
        let still_active = lock(&self.inner.active)
            .as_ref()
            .is_some_and(|active| active.generation == link.generation);
        if still_active {
            self.replace_link(None);
        }
    }

    /// Publishes a request of the library on iopub, parented to the current shell request,
    /// then acknowledges it so the library goes on only once the frontend can see it.
    async fn handle_library_message(&self, link: &Link, message: BridgeMessage) {
        let seq = message.seq();
        let (content, metadata): (JupyterMessageContent, Value) = match message {
            BridgeMessage::Done { seq } => {
                if let Some(waiter) = lock(&self.inner.pending_done).remove(&seq) {
                    // The shell may have stopped waiting (timeout); then nobody is told.
                    let _ = waiter.send(());
                }
                return;
            }
            BridgeMessage::Ack { seq } => {
                eprintln!("flow-edge-kernel: unexpected ack {seq} from the widgets library");
                return;
            }
            BridgeMessage::CommOpen {
                comm_id,
                target_name,
                data,
                metadata,
                ..
            } => {
                self.inner.comms.opened(&comm_id, &target_name, true);
                let open = CommOpen {
                    comm_id: CommId(comm_id),
                    target_name,
                    data: object(data),
                    target_module: None,
                };
                (open.into(), metadata)
            }
            BridgeMessage::CommMsg {
                comm_id,
                data,
                metadata,
                ..
            } => {
                let msg = CommMsg {
                    comm_id: CommId(comm_id),
                    data: object(data),
                };
                (msg.into(), metadata)
            }
            BridgeMessage::CommClose { comm_id, data, .. } => {
                self.inner.comms.closed(&comm_id);
                let close = CommClose {
                    comm_id: CommId(comm_id),
                    data: object(data),
                };
                (close.into(), Value::Object(Map::new()))
            }
            BridgeMessage::Stream { name, text, .. } => {
                let stream = match name {
                    StreamName::Stdout => StreamContent::stdout(&text),
                    StreamName::Stderr => StreamContent::stderr(&text),
                };
                (stream.into(), Value::Object(Map::new()))
            }
        };
        let parent = self.inner.current.get();
        self.inner
            .publisher
            .send_confirmed(parent.as_ref(), content, metadata)
            .await;
        if let Err(error) = link.write(&BridgeMessage::Ack { seq }).await {
            eprintln!("flow-edge-kernel: acknowledging the widgets library failed: {error}");
        }
    }

    /// Sends a frontend comm message to the library; the receiver fires when the library
    /// reports it handled (callbacks included), and errors if the library went away.
    pub(crate) async fn forward(
        &self,
        build: impl FnOnce(u64) -> BridgeMessage,
    ) -> Result<oneshot::Receiver<()>, ForwardError> {
        let link = lock(&self.inner.active)
            .clone()
            .ok_or(ForwardError::NotConnected)?;
        let seq = self.inner.next_seq.fetch_add(1, Ordering::SeqCst);
        let (done, finished) = oneshot::channel();
        lock(&self.inner.pending_done).insert(seq, done);
        if let Err(error) = link.write(&build(seq)).await {
            lock(&self.inner.pending_done).remove(&seq);
            return Err(ForwardError::Write(error));
        }
        Ok(finished)
    }
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}
