//! The bridge server: accepts the widgets library, publishes what it sends, forwards the
//! frontend's comm messages to it.
//!
//! Several library connections can be live at once: evcxr links a `:dep` crate statically into
//! each cell, so every cell that creates widgets has its own copy of the library's statics and
//! connects on its own. Each widget comm belongs to the connection that opened it, and the
//! frontend's messages for it go there; comms the frontend opened (the widget manager's
//! control comm) go to every connection, and their `request_states` answers are merged into
//! one. A connection that closes (its process died) takes its comms with it, and callbacks it
//! still owed are given up so the shell loop does not wait for a dead process.

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
    /// The comm is not open (its widget was closed, or its process is gone).
    UnknownComm,
    /// The socket write failed (the library's process died).
    Write(std::io::Error),
}

impl fmt::Display for ForwardError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ForwardError::NotConnected => write!(f, "no widgets library is connected"),
            ForwardError::UnknownComm => write!(f, "no open comm has that id"),
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
    links: Mutex<Vec<Arc<Link>>>,
    /// Requests forwarded to a library and not done yet: seq → (link generation, waiter).
    pending_done: Mutex<HashMap<u64, (u64, oneshot::Sender<()>)>>,
    /// Frontend comms whose library replies are being gathered instead of published.
    collecting: Mutex<HashMap<String, Vec<Value>>>,
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
                links: Mutex::new(Vec::new()),
                pending_done: Mutex::new(HashMap::new()),
                collecting: Mutex::new(HashMap::new()),
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
                    lock(&self.inner.links).push(Arc::clone(&link));
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

    /// Forgets a closed connection: its comms, and whatever it still owed.
    fn drop_link(&self, generation: u64) {
        lock(&self.inner.links).retain(|link| link.generation != generation);
        // Dropping the senders wakes the waiters with an error.
        lock(&self.inner.pending_done).retain(|_, (owner, _)| *owner != generation);
        self.inner.comms.forget_comms_of(generation);
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
        self.drop_link(link.generation);
    }

    /// Publishes a request of the library on iopub, parented to the current shell request,
    /// then acknowledges it so the library goes on only once the frontend can see it.
    async fn handle_library_message(&self, link: &Link, message: BridgeMessage) {
        let seq = message.seq();
        let (content, metadata): (JupyterMessageContent, Value) = match message {
            BridgeMessage::Done { seq } => {
                if let Some((_, waiter)) = lock(&self.inner.pending_done).remove(&seq) {
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
                self.inner
                    .comms
                    .opened(&comm_id, &target_name, Some(link.generation));
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
                let Some(data) = self.keep_if_collecting(&comm_id, data) else {
                    return self.acknowledge(link, seq).await;
                };
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
        self.acknowledge(link, seq).await;
    }

    async fn acknowledge(&self, link: &Link, seq: u64) {
        if let Err(error) = link.write(&BridgeMessage::Ack { seq }).await {
            eprintln!("flow-edge-kernel: acknowledging the widgets library failed: {error}");
        }
    }

    /// Keeps `data` if replies on `comm_id` are being collected (None), else gives it back.
    fn keep_if_collecting(&self, comm_id: &str, data: Value) -> Option<Value> {
        match lock(&self.inner.collecting).get_mut(comm_id) {
            Some(replies) => {
                replies.push(data);
                None
            }
            None => Some(data),
        }
    }

    /// From now on, the libraries' messages on `comm_id` are kept for [`Bridge::collected`]
    /// instead of being published.
    pub(crate) fn collect_replies(&self, comm_id: &str) {
        lock(&self.inner.collecting).insert(comm_id.to_owned(), Vec::new());
    }

    /// The message data the libraries sent on `comm_id` since [`Bridge::collect_replies`];
    /// publishing resumes.
    pub(crate) fn collected(&self, comm_id: &str) -> Vec<Value> {
        lock(&self.inner.collecting)
            .remove(comm_id)
            .unwrap_or_default()
    }

    /// Sends a frontend message on `comm_id` to the connection that owns the comm, or to
    /// every connection for a comm the frontend opened. Each receiver fires when its library
    /// reports the message handled (callbacks included), and errors if the library went away.
    pub(crate) async fn forward(
        &self,
        comm_id: &str,
        build: impl Fn(u64) -> BridgeMessage,
    ) -> Result<Vec<oneshot::Receiver<()>>, ForwardError> {
        let owner = self
            .inner
            .comms
            .owner(comm_id)
            .ok_or(ForwardError::UnknownComm)?;
        let links: Vec<Arc<Link>> = lock(&self.inner.links)
            .iter()
            .filter(|link| owner.is_none_or(|generation| link.generation == generation))
            .cloned()
            .collect();
        if links.is_empty() {
            return Err(ForwardError::NotConnected);
        }
        let mut receivers = Vec::with_capacity(links.len());
        for link in links {
            let seq = self.inner.next_seq.fetch_add(1, Ordering::SeqCst);
            let (done, finished) = oneshot::channel();
            lock(&self.inner.pending_done).insert(seq, (link.generation, done));
            if let Err(error) = link.write(&build(seq)).await {
                lock(&self.inner.pending_done).remove(&seq);
                return Err(ForwardError::Write(error));
            }
            receivers.push(finished);
        }
        Ok(receivers)
    }
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}
