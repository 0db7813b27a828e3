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
//!
//! The peer is trusted to be the library, not to be well behaved: lines are bounded and bad
//! ones skipped ([`super::lines`]), writes have a deadline after which the link is cut
//! ([`super::link`]), and a link whose callback outlived the callback timeout gets no more
//! messages until it reports that callback done; each of these is said on the frontend.

use super::limits::{Limits, MAX_LINE_ENV};
use super::lines::{BoundedLines, Next};
use super::link::{Link, WriteError};
use super::CommRegistry;
use crate::protocol::iopub::{CurrentRequest, Publisher};
use flow_edge_bridge_protocol::wire::{BridgeMessage, StreamName};
use jupyter_protocol::{
    CommClose, CommId, CommMsg, CommOpen, JupyterMessageContent, StreamContent,
};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};
use tokio::net::unix::OwnedReadHalf;
use tokio::net::UnixListener;
use tokio::sync::oneshot;

/// Why a frontend comm message could not be handed to the library.
#[derive(Debug)]
pub(crate) enum ForwardError {
    /// No library connected: no widget was created since evcxr (re)started.
    NotConnected,
    /// The comm is not open (its widget was closed, or its process is gone).
    UnknownComm,
    /// A callback of the library concerned has not returned since `since`.
    Busy { since: Instant },
    /// The write failed or missed its deadline; the link was cut.
    Write(WriteError),
}

impl fmt::Display for ForwardError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ForwardError::NotConnected => write!(f, "no widgets library is connected"),
            ForwardError::UnknownComm => write!(f, "no open comm has that id"),
            ForwardError::Busy { since } => write!(
                f,
                "the cell's widgets are busy: a callback has not returned for {:.0} s",
                since.elapsed().as_secs_f64()
            ),
            ForwardError::Write(error) => error.fmt(f),
        }
    }
}

/// A frontend message handed to one library, waiting for its `done`.
pub(crate) struct Sent {
    link: Arc<Link>,
    seq: u64,
    at: Instant,
    done: oneshot::Receiver<()>,
}

/// What [`Bridge::forward`] did.
pub(crate) struct Forwarded {
    pub(crate) sent: Vec<Sent>,
    /// Set when some of the libraries concerned were skipped as busy: the oldest such callback.
    pub(crate) skipped_busy: Option<Instant>,
}

/// Some callbacks outlived the timeout; their links are busy until they finish.
#[derive(Debug)]
pub(crate) struct Overdue;

struct Inner {
    links: Mutex<Vec<Arc<Link>>>,
    /// Requests forwarded to a library and not done yet: seq → (link generation, waiter).
    pending_done: Mutex<HashMap<u64, (u64, oneshot::Sender<()>)>>,
    /// Frontend comms whose library replies are being gathered instead of published.
    collecting: Mutex<HashMap<String, Vec<Value>>>,
    next_seq: AtomicU64,
    generations: AtomicU64,
    limits: Limits,
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
                limits: Limits::from_env(),
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
                    let generation = self.inner.generations.fetch_add(1, Ordering::SeqCst) + 1;
                    let link = Arc::new(Link::new(
                        generation,
                        writer,
                        self.inner.limits.write_timeout,
                    ));
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

    /// Forgets a closed connection: its comms, and whatever it still owed. Forgetting one
    /// twice (the reading task and a failed write both do) is harmless.
    fn drop_link(&self, generation: u64) {
        lock(&self.inner.links).retain(|link| link.generation != generation);
        // Dropping the senders wakes the waiters with an error.
        lock(&self.inner.pending_done).retain(|_, (owner, _)| *owner != generation);
        self.inner.comms.forget_comms_of(generation);
    }

    /// A write failed or missed its deadline: the link is gone, and the frontend is told why
    /// its widgets stopped answering.
    async fn lose_link(&self, link: &Link, error: &WriteError) {
        link.cut().await;
        self.drop_link(link.generation);
        if !link.claim_loss_report() {
            // A concurrent write failed too and reported it.
            return;
        }
        let text = format!(
            "flow-edge-kernel: {error}; the kernel dropped its link, so that cell's widgets no \
             longer respond (run the cell again to get new ones).\n"
        );
        eprint!("{text}");
        self.tell_frontend(&text);
    }

    /// Shows `text` on stderr under the shell request being handled.
    fn tell_frontend(&self, text: &str) {
        let parent = self.inner.current.get();
        self.inner
            .publisher
            .send(parent.as_ref(), StreamContent::stderr(text));
    }

    async fn read_library(self, link: Arc<Link>, reader: OwnedReadHalf) {
        let mut lines = BoundedLines::new(reader, self.inner.limits.max_line_bytes);
        loop {
            let next = tokio::select! {
                next = lines.next() => next,
                () = link.was_cut() => break,
            };
            match next {
                Ok(Next::Line(bytes)) => self.handle_line(&link, &bytes).await,
                Ok(Next::TooLong { bytes }) => self.report_too_long(bytes),
                Ok(Next::End) => break,
                Err(error) => {
                    eprintln!("flow-edge-kernel: reading the widgets library failed: {error}");
                    break;
                }
            }
        }
        self.drop_link(link.generation);
    }

    /// Handles one line; a line that is not a message is logged and skipped.
    async fn handle_line(&self, link: &Link, bytes: &[u8]) {
        let message = std::str::from_utf8(bytes)
            .map_err(|error| format!("bridge line is not UTF-8: {error}"))
            .and_then(|text| BridgeMessage::from_line(text).map_err(|error| error.to_string()));
        match message {
            Ok(message) => self.handle_library_message(link, message).await,
            Err(problem) => eprintln!("flow-edge-kernel: from the widgets library: {problem}"),
        }
    }

    /// An over-long line was discarded; its sender waits for an `ack` that will not come.
    fn report_too_long(&self, bytes: usize) {
        let text = format!(
            "flow-edge-kernel: a message of {bytes} bytes from the widgets library is over the \
             bridge's limit of {} bytes ({MAX_LINE_ENV}); it was discarded.\n",
            self.inner.limits.max_line_bytes
        );
        eprint!("{text}");
        self.tell_frontend(&text);
    }

    /// Publishes a request of the library on iopub, parented to the current shell request,
    /// then acknowledges it so the library goes on only once the frontend can see it.
    async fn handle_library_message(&self, link: &Link, message: BridgeMessage) {
        let seq = message.seq();
        let (content, metadata): (JupyterMessageContent, Value) = match message {
            BridgeMessage::Done { seq } => {
                let mut pending = lock(&self.inner.pending_done);
                if let Some((_, waiter)) = pending.remove(&seq) {
                    // The shell may have stopped waiting (timeout); then nobody is told.
                    let _ = waiter.send(());
                }
                // Under the same lock as the timeout's marking, so the two cannot cross.
                link.finished(seq);
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
            self.lose_link(link, &error).await;
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
    /// every connection for a comm the frontend opened, skipping busy ones. Each [`Sent`] is
    /// waited for with [`Bridge::wait_done`]. A link whose write fails is cut and reported.
    pub(crate) async fn forward(
        &self,
        comm_id: &str,
        build: impl Fn(u64) -> BridgeMessage,
    ) -> Result<Forwarded, ForwardError> {
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
        let mut forwarded = Forwarded {
            sent: Vec::with_capacity(links.len()),
            skipped_busy: None,
        };
        let mut failure = None;
        for link in links {
            if let Some(since) = link.busy_since() {
                let oldest = forwarded.skipped_busy.map_or(since, |seen| seen.min(since));
                forwarded.skipped_busy = Some(oldest);
                continue;
            }
            let seq = self.inner.next_seq.fetch_add(1, Ordering::SeqCst);
            let (done, finished) = oneshot::channel();
            lock(&self.inner.pending_done).insert(seq, (link.generation, done));
            let at = Instant::now();
            match link.write(&build(seq)).await {
                Ok(()) => forwarded.sent.push(Sent {
                    link,
                    seq,
                    at,
                    done: finished,
                }),
                Err(error) => {
                    lock(&self.inner.pending_done).remove(&seq);
                    self.lose_link(&link, &error).await;
                    failure = Some(error);
                }
            }
        }
        if !forwarded.sent.is_empty() {
            return Ok(forwarded);
        }
        Err(match (failure, forwarded.skipped_busy) {
            (Some(error), _) => ForwardError::Write(error),
            (None, Some(since)) => ForwardError::Busy { since },
            (None, None) => ForwardError::NotConnected,
        })
    }

    /// Waits until every library reports `done`, at most `timeout` in all. A library whose
    /// callback is still running then is marked busy until that callback finishes.
    pub(crate) async fn wait_done(
        &self,
        sent: Vec<Sent>,
        timeout: Duration,
    ) -> Result<(), Overdue> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut overdue = false;
        for Sent {
            link,
            seq,
            at,
            done,
        } in sent
        {
            // An error means the library went away mid-callback: nothing left to wait for.
            if tokio::time::timeout_at(deadline, done).await.is_err() {
                let pending = lock(&self.inner.pending_done);
                if pending.contains_key(&seq) {
                    link.mark_overdue(seq, at);
                    overdue = true;
                }
            }
        }
        if overdue {
            Err(Overdue)
        } else {
            Ok(())
        }
    }
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}
