//! The library's end of the kernel bridge, and the widgets it knows.
//!
//! One session per copy of this library (a `static`). evcxr links `:dep` crates statically
//! into each cell, so every cell that creates widgets has its own session and connection; the
//! kernel routes each widget's messages to the connection that opened it. It connects to the socket named by [`BRIDGE_ENV`] on first use and again after
//! the link dropped; without that variable (plain evcxr, the REPL) widgets render statically.
//!
//! Threads: a reader routes the kernel's `ack`s to the waiting senders and its requests to a
//! dispatcher, which runs the widget callbacks one at a time and answers `done`. Callbacks can
//! therefore send (and wait for `ack`s) without blocking the reader.

use crate::attribute::Attribute;
use crate::model::{lock, Model};
use crate::protocol::{self, FrontendRequest, CONTROL_TARGET};
use crate::wire::{BridgeMessage, StreamName, BRIDGE_ENV};
use serde_json::{json, Map, Value};
use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, SystemTime};

/// How long a send waits for the kernel's `ack` before giving up on the link.
const ACK_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a message could not be delivered to the kernel.
#[derive(Debug)]
pub(crate) enum BridgeError {
    /// No kernel bridge: not running under the flow-edge kernel, or it went away.
    NotConnected,
    /// Writing to the socket failed.
    Write(std::io::Error),
    /// The kernel did not acknowledge message `seq` in time.
    NoAck { seq: u64 },
}

impl fmt::Display for BridgeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BridgeError::NotConnected => write!(f, "not connected to the flow-edge kernel"),
            BridgeError::Write(error) => write!(f, "writing to the kernel bridge failed: {error}"),
            BridgeError::NoAck { seq } => write!(
                f,
                "the kernel did not acknowledge bridge message {seq} within {} s",
                ACK_TIMEOUT.as_secs()
            ),
        }
    }
}

/// The widgets of this process and the link to the kernel.
pub(crate) struct Session {
    socket_path: Option<PathBuf>,
    link: Mutex<Option<Arc<Link>>>,
    models: Mutex<HashMap<String, Arc<Model>>>,
    id_counter: AtomicU64,
}

/// One live connection to the kernel's bridge socket.
struct Link {
    writer: Mutex<UnixStream>,
    pending_acks: Mutex<HashMap<u64, mpsc::Sender<()>>>,
    next_seq: AtomicU64,
    alive: AtomicBool,
}

static GLOBAL: OnceLock<Arc<Session>> = OnceLock::new();

#[cfg(test)]
thread_local! {
    /// Lets a unit test give its thread a session wired to a fake kernel.
    static TEST_SESSION: std::cell::RefCell<Option<Arc<Session>>> = const { std::cell::RefCell::new(None) };
}

impl Session {
    /// A session that connects to `socket_path` when first needed.
    pub(crate) fn new(socket_path: Option<PathBuf>) -> Arc<Session> {
        Arc::new(Session {
            socket_path,
            link: Mutex::new(None),
            models: Mutex::new(HashMap::new()),
            id_counter: AtomicU64::new(0),
        })
    }

    /// The session new widgets belong to.
    pub(crate) fn current() -> Arc<Session> {
        #[cfg(test)]
        if let Some(session) = TEST_SESSION.with(|slot| slot.borrow().clone()) {
            return session;
        }
        Arc::clone(
            GLOBAL.get_or_init(|| Session::new(std::env::var_os(BRIDGE_ENV).map(PathBuf::from))),
        )
    }

    #[cfg(test)]
    pub(crate) fn use_in_this_thread(session: Arc<Session>) {
        TEST_SESSION.with(|slot| *slot.borrow_mut() = Some(session));
    }

    /// A fresh 32-hex-digit model id, unique across processes (like ipywidgets' uuid4 hex).
    pub(crate) fn new_model_id(&self) -> String {
        let count = self.id_counter.fetch_add(1, Ordering::Relaxed);
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|elapsed| elapsed.as_nanos())
            .unwrap_or_default();
        let halves: Vec<u64> = (0..2u64)
            .map(|half| {
                let mut hasher = RandomState::new().build_hasher();
                hasher.write_u64(count);
                hasher.write_u128(nanos);
                hasher.write_u32(std::process::id());
                hasher.write_u64(half);
                hasher.finish()
            })
            .collect();
        format!("{:016x}{:016x}", halves[0], halves[1])
    }

    pub(crate) fn register(&self, model: Arc<Model>) {
        lock(&self.models).insert(model.id().to_owned(), model);
    }

    pub(crate) fn unregister(&self, id: &str) {
        lock(&self.models).remove(id);
    }

    pub(crate) fn model(&self, id: &str) -> Option<Arc<Model>> {
        lock(&self.models).get(id).cloned()
    }

    /// True when a kernel bridge is connected (connecting now if needed).
    pub(crate) fn is_connected(self: &Arc<Self>) -> bool {
        self.link().is_some()
    }

    /// Opens a comm on the frontend; false when no kernel is there to show it.
    pub(crate) fn comm_open(
        self: &Arc<Self>,
        comm_id: &str,
        target_name: &str,
        data: Value,
        metadata: Value,
    ) -> bool {
        self.deliver(|seq| BridgeMessage::CommOpen {
            seq,
            comm_id: comm_id.to_owned(),
            target_name: target_name.to_owned(),
            data,
            metadata,
        })
    }

    pub(crate) fn comm_msg(self: &Arc<Self>, comm_id: &str, data: Value) {
        self.deliver(|seq| BridgeMessage::CommMsg {
            seq,
            comm_id: comm_id.to_owned(),
            data,
            metadata: json!({"version": protocol::PROTOCOL_VERSION}),
        });
    }

    pub(crate) fn comm_close(self: &Arc<Self>, comm_id: &str) {
        self.deliver(|seq| BridgeMessage::CommClose {
            seq,
            comm_id: comm_id.to_owned(),
            data: json!({}),
        });
    }

    /// Shows text from a callback on the frontend; without a kernel it goes to stderr
    /// (never stdout: evcxr reads the subprocess's stdout only while a cell runs).
    pub(crate) fn stream(self: &Arc<Self>, name: StreamName, text: &str) {
        let delivered = self.deliver(|seq| BridgeMessage::Stream {
            seq,
            name,
            text: text.to_owned(),
        });
        if !delivered {
            eprint!("{text}");
        }
    }

    /// Sends one request and waits for its `ack`; reports failures on stderr and returns
    /// whether the kernel published the message.
    fn deliver(self: &Arc<Self>, build: impl FnOnce(u64) -> BridgeMessage) -> bool {
        let Some(link) = self.link() else {
            return false;
        };
        match link.request(build) {
            Ok(()) => true,
            Err(error) => {
                eprintln!("flow-edge widgets: {error}");
                false
            }
        }
    }

    /// The live link, connecting (or reconnecting) when there is none.
    fn link(self: &Arc<Self>) -> Option<Arc<Link>> {
        let path = self.socket_path.as_ref()?;
        let mut slot = lock(&self.link);
        if let Some(link) = slot.as_ref() {
            if link.alive.load(Ordering::SeqCst) {
                return Some(Arc::clone(link));
            }
        }
        let link = match Link::connect(path, Arc::downgrade(self)) {
            Ok(link) => link,
            Err(error) => {
                eprintln!(
                    "flow-edge widgets: cannot reach the kernel bridge at {}: {error}",
                    path.display()
                );
                *slot = None;
                return None;
            }
        };
        *slot = Some(Arc::clone(&link));
        Some(link)
    }

    /// Handles one request of the kernel (a frontend comm message); runs on the dispatcher.
    fn handle_kernel_request(self: &Arc<Self>, message: BridgeMessage) {
        match message {
            BridgeMessage::CommOpen {
                comm_id,
                target_name,
                ..
            } => {
                // The control comm needs no state here: request_states is answered for any
                // comm that is not a widget. Widgets created by the frontend are not supported.
                if target_name != CONTROL_TARGET {
                    self.comm_close(&comm_id);
                }
            }
            BridgeMessage::CommMsg { comm_id, data, .. } => {
                let request = FrontendRequest::from_data(&data);
                match (self.model(&comm_id), request) {
                    (Some(model), request) => model.handle_frontend(request),
                    (None, FrontendRequest::RequestStates) => self.send_all_states(&comm_id),
                    (None, _) => self.stream(
                        StreamName::Stderr,
                        &format!("flow-edge widgets: message for unknown widget {comm_id}\n"),
                    ),
                }
            }
            BridgeMessage::CommClose { comm_id, .. } => {
                let closed = lock(&self.models).remove(&comm_id);
                if let Some(model) = closed {
                    model.closed_by_frontend();
                }
            }
            BridgeMessage::Stream { .. }
            | BridgeMessage::Ack { .. }
            | BridgeMessage::Done { .. } => {}
        }
    }

    /// Answers the control comm's `request_states` with every live widget's full state.
    fn send_all_states(self: &Arc<Self>, comm_id: &str) {
        let models: Vec<Arc<Model>> = lock(&self.models).values().cloned().collect();
        let mut states = Map::new();
        for model in models {
            let state = model.state();
            let entry = json!({
                "model_name": state.get(Attribute::ModelName.name()),
                "model_module": state.get(Attribute::ModelModule.name()),
                "model_module_version": state.get(Attribute::ModelModuleVersion.name()),
                "state": state,
            });
            states.insert(model.id().to_owned(), entry);
        }
        self.comm_msg(comm_id, protocol::update_states_data(states));
    }
}

impl Link {
    /// Connects and starts the reader and dispatcher threads.
    fn connect(
        path: &std::path::Path,
        session: std::sync::Weak<Session>,
    ) -> std::io::Result<Arc<Link>> {
        let stream = UnixStream::connect(path)?;
        let reader = stream.try_clone()?;
        let link = Arc::new(Link {
            writer: Mutex::new(stream),
            pending_acks: Mutex::new(HashMap::new()),
            next_seq: AtomicU64::new(1),
            alive: AtomicBool::new(true),
        });
        let (requests, incoming) = mpsc::channel::<BridgeMessage>();
        let dispatcher_link = Arc::clone(&link);
        thread::Builder::new()
            .name("flow-edge-widgets-dispatch".into())
            .spawn(move || {
                for request in incoming {
                    let seq = request.seq();
                    if let Some(session) = session.upgrade() {
                        session.handle_kernel_request(request);
                    }
                    dispatcher_link.send_line(&BridgeMessage::Done { seq });
                }
            })?;
        let reader_link = Arc::clone(&link);
        thread::Builder::new()
            .name("flow-edge-widgets-read".into())
            .spawn(move || reader_link.read_until_closed(reader, requests))?;
        Ok(link)
    }

    /// Routes `ack`s to waiting senders and everything else to the dispatcher until EOF.
    fn read_until_closed(&self, stream: UnixStream, requests: mpsc::Sender<BridgeMessage>) {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            match BridgeMessage::from_line(&line) {
                Ok(BridgeMessage::Ack { seq }) => {
                    if let Some(waiter) = lock(&self.pending_acks).remove(&seq) {
                        // The sender may have timed out already; nothing to tell it then.
                        let _ = waiter.send(());
                    }
                }
                Ok(request) => {
                    if requests.send(request).is_err() {
                        break;
                    }
                }
                Err(error) => eprintln!("flow-edge widgets: {error}"),
            }
        }
        self.alive.store(false, Ordering::SeqCst);
        // Dropping the waiters wakes every sender with a disconnect.
        lock(&self.pending_acks).clear();
    }

    /// Sends a request and blocks until the kernel acknowledged it.
    fn request(&self, build: impl FnOnce(u64) -> BridgeMessage) -> Result<(), BridgeError> {
        let seq = self.next_seq.fetch_add(1, Ordering::SeqCst);
        let (waiter, acked) = mpsc::channel();
        lock(&self.pending_acks).insert(seq, waiter);
        if let Err(error) = self.write(&build(seq)) {
            lock(&self.pending_acks).remove(&seq);
            self.alive.store(false, Ordering::SeqCst);
            return Err(BridgeError::Write(error));
        }
        match acked.recv_timeout(ACK_TIMEOUT) {
            Ok(()) => Ok(()),
            Err(RecvTimeoutError::Timeout) => {
                lock(&self.pending_acks).remove(&seq);
                Err(BridgeError::NoAck { seq })
            }
            Err(RecvTimeoutError::Disconnected) => Err(BridgeError::NotConnected),
        }
    }

    /// Sends a message that needs no answer, logging a failure.
    fn send_line(&self, message: &BridgeMessage) {
        if let Err(error) = self.write(message) {
            self.alive.store(false, Ordering::SeqCst);
            eprintln!("flow-edge widgets: {}", BridgeError::Write(error));
        }
    }

    fn write(&self, message: &BridgeMessage) -> std::io::Result<()> {
        let mut writer = lock(&self.writer);
        writer.write_all(message.to_line().as_bytes())?;
        writer.flush()
    }
}
