//! A stand-in for one cell's copy of the widgets library: it speaks the bridge protocol
//! (`flow_edge_bridge_protocol`) as `flow_edge_widgets` does from evcxr's subprocess, with
//! widgets that are plain state.
//!
//! It connects to the kernel's bridge socket, opens widget comms (`comm_open` on
//! `jupyter.widget`, then waits for the kernel's `ack`) and answers what the frontend sends,
//! then reports each message `done`:
//!
//! | frontend sends                              | the library                                  |
//! |---------------------------------------------|----------------------------------------------|
//! | `update`                                    | keeps the values, answers `echo_update`      |
//! | `request_state`                             | sends its whole state as an `update`         |
//! | `custom` `{"event": "click"}`               | sets `value` to `clicked N times` (`update`) |
//! | `custom` `{"event": "print", "text": T}`    | shows T on stdout (a `stream` request)       |
//! | `custom` `{"event": "sleep", "seconds": S}` | takes S seconds before `done` (a hung callback) |
//! | `request_states` on the control comm        | answers `update_states` with its widgets     |
//! | `comm_close`                                | forgets the widget                           |
//!
//! Threads, as in the real library: a reader routes the kernel's `ack`s to the waiting sender
//! and its requests to a dispatcher, which answers them one at a time; the dispatcher can
//! therefore send and wait for `ack`s without blocking the reader.

use flow_edge_bridge_protocol::widget_protocol::{self as widgets, FrontendRequest, WIDGET_TARGET};
use flow_edge_bridge_protocol::wire::{BridgeMessage, StreamName};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::{BufRead, BufReader, Write};
use std::net::Shutdown;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// How long a request waits for the kernel's `ack` (as long as the real library waits).
const ACK_TIMEOUT: Duration = Duration::from_secs(10);

/// The model name of the fake widgets, which no frontend renders.
const MODEL_NAME: &str = "FakeWidgetModel";

/// Why the library could not reach the kernel.
#[derive(Debug)]
pub(super) enum LibraryError {
    /// Connecting or writing to the bridge socket failed.
    Io(std::io::Error),
    /// The kernel did not acknowledge request `seq` in time.
    NoAck { seq: u64 },
}

impl fmt::Display for LibraryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LibraryError::Io(error) => write!(f, "the kernel bridge failed: {error}"),
            LibraryError::NoAck { seq } => write!(
                f,
                "the kernel did not acknowledge bridge message {seq} within {} s",
                ACK_TIMEOUT.as_secs()
            ),
        }
    }
}

impl From<std::io::Error> for LibraryError {
    fn from(error: std::io::Error) -> LibraryError {
        LibraryError::Io(error)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One connection to the kernel's bridge; dropping it closes the connection, and the kernel
/// forgets its comms (as when evcxr's subprocess ends).
pub(super) struct Library {
    link: Arc<Link>,
}

struct Link {
    writer: Mutex<UnixStream>,
    acks: Mutex<HashMap<u64, mpsc::Sender<()>>>,
    next_seq: AtomicU64,
    /// Comm id → the widget's state.
    widgets: Mutex<BTreeMap<String, Map<String, Value>>>,
}

impl Library {
    /// Connects to the bridge socket at `socket` and starts the reader and the dispatcher.
    pub(super) fn connect(socket: &Path) -> Result<Library, LibraryError> {
        let stream = UnixStream::connect(socket)?;
        let reader = stream.try_clone()?;
        let link = Arc::new(Link {
            writer: Mutex::new(stream),
            acks: Mutex::new(HashMap::new()),
            next_seq: AtomicU64::new(1),
            widgets: Mutex::new(BTreeMap::new()),
        });
        let (requests, dispatch) = mpsc::channel();
        let reading = Arc::clone(&link);
        std::thread::Builder::new()
            .name("fake-library-reader".into())
            .spawn(move || read_kernel(reader, &reading, &requests))?;
        let answering = Arc::clone(&link);
        std::thread::Builder::new()
            .name("fake-library-dispatcher".into())
            .spawn(move || {
                for request in dispatch {
                    answering.answer(request);
                }
            })?;
        Ok(Library { link })
    }

    /// Opens a widget with `description`; returns once the kernel published its `comm_open`.
    pub(super) fn open_widget(&self, description: &str) -> Result<String, LibraryError> {
        let comm_id = new_comm_id();
        let state = json!({"_model_name": MODEL_NAME, "description": description,
                           "value": "", "clicks": 0});
        let state = state.as_object().cloned().unwrap_or_default();
        lock(&self.link.widgets).insert(comm_id.clone(), state.clone());
        self.link.request(|seq| BridgeMessage::CommOpen {
            seq,
            comm_id: comm_id.clone(),
            target_name: WIDGET_TARGET.into(),
            data: widgets::open_data(&state),
            metadata: widgets::open_metadata(),
        })?;
        Ok(comm_id)
    }
}

impl Drop for Library {
    fn drop(&mut self) {
        // The reader sees the end of the stream and stops; the dispatcher follows.
        let _ = lock(&self.link.writer).shutdown(Shutdown::Both);
    }
}

/// Routes `ack`s to their waiters and the kernel's requests to the dispatcher.
fn read_kernel(reader: UnixStream, link: &Link, requests: &mpsc::Sender<BridgeMessage>) {
    for line in BufReader::new(reader).lines() {
        let Ok(line) = line else { return };
        match BridgeMessage::from_line(&line) {
            Ok(BridgeMessage::Ack { seq }) => {
                if let Some(waiter) = lock(&link.acks).remove(&seq) {
                    // The sender may have given up waiting.
                    let _ = waiter.send(());
                }
            }
            Ok(request) => {
                if requests.send(request).is_err() {
                    return;
                }
            }
            Err(error) => eprintln!("flow-edge-kernel: fake widgets library: {error}"),
        }
    }
}

impl Link {
    /// Sends one request and waits for its `ack`.
    fn request(&self, build: impl FnOnce(u64) -> BridgeMessage) -> Result<(), LibraryError> {
        let seq = self.next_seq.fetch_add(1, Ordering::SeqCst);
        let (acked, ack) = mpsc::channel();
        lock(&self.acks).insert(seq, acked);
        let sent = self.write(&build(seq));
        let outcome = sent.and_then(|()| {
            ack.recv_timeout(ACK_TIMEOUT)
                .map_err(|_| LibraryError::NoAck { seq })
        });
        lock(&self.acks).remove(&seq);
        outcome
    }

    fn write(&self, message: &BridgeMessage) -> Result<(), LibraryError> {
        let mut writer = lock(&self.writer);
        writer.write_all(message.to_line().as_bytes())?;
        Ok(())
    }

    fn comm_msg(&self, comm_id: &str, data: Value) -> Result<(), LibraryError> {
        self.request(|seq| BridgeMessage::CommMsg {
            seq,
            comm_id: comm_id.to_owned(),
            data,
            metadata: widgets::open_metadata(),
        })
    }

    /// Handles one request of the kernel, then reports it `done`.
    fn answer(&self, request: BridgeMessage) {
        let seq = request.seq();
        let handled = match request {
            BridgeMessage::CommMsg { comm_id, data, .. } => self.frontend_message(&comm_id, &data),
            BridgeMessage::CommClose { comm_id, .. } => {
                lock(&self.widgets).remove(&comm_id);
                Ok(())
            }
            // The frontend's control comm needs nothing set up; the rest are not requests.
            _ => Ok(()),
        };
        if let Err(error) = handled.and_then(|()| self.write(&BridgeMessage::Done { seq })) {
            eprintln!("flow-edge-kernel: fake widgets library: {error}");
        }
    }

    fn frontend_message(&self, comm_id: &str, data: &Value) -> Result<(), LibraryError> {
        match FrontendRequest::from_data(data) {
            FrontendRequest::Update(changes) => {
                if let Some(state) = lock(&self.widgets).get_mut(comm_id) {
                    state.extend(changes.clone());
                }
                self.comm_msg(comm_id, widgets::echo_update_data(&changes))
            }
            FrontendRequest::RequestState => {
                let state = lock(&self.widgets).get(comm_id).cloned();
                match state {
                    Some(state) => self.comm_msg(comm_id, widgets::update_data(&state)),
                    None => Ok(()),
                }
            }
            FrontendRequest::Custom(content) => self.event(comm_id, &content),
            FrontendRequest::RequestStates => {
                let states = self.states();
                self.comm_msg(comm_id, widgets::update_states_data(states))
            }
            FrontendRequest::Unknown(_) => Ok(()),
        }
    }

    /// A widget event: a click, a callback that prints, a callback that hangs.
    fn event(&self, comm_id: &str, content: &Value) -> Result<(), LibraryError> {
        match content.get("event").and_then(Value::as_str) {
            Some("click") => match self.click(comm_id) {
                Some(changes) => self.comm_msg(comm_id, widgets::update_data(&changes)),
                None => Ok(()),
            },
            Some("print") => {
                let text = content.get("text").and_then(Value::as_str).unwrap_or("");
                self.request(|seq| BridgeMessage::Stream {
                    seq,
                    name: StreamName::Stdout,
                    text: text.to_owned(),
                })
            }
            Some("sleep") => {
                let seconds = content.get("seconds").and_then(Value::as_f64);
                let seconds = seconds.filter(|s| s.is_finite() && *s >= 0.0);
                std::thread::sleep(Duration::from_secs_f64(seconds.unwrap_or(0.0)));
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Counts a click on `comm_id`; the changed attributes, or None for an unknown widget.
    fn click(&self, comm_id: &str) -> Option<Map<String, Value>> {
        let mut widgets = lock(&self.widgets);
        let state = widgets.get_mut(comm_id)?;
        let clicks = state.get("clicks").and_then(Value::as_u64).unwrap_or(0) + 1;
        let changes = json!({"clicks": clicks, "value": format!("clicked {clicks} times")});
        let changes = changes.as_object().cloned().unwrap_or_default();
        state.extend(changes.clone());
        Some(changes)
    }

    /// Every widget's state, as `update_states` carries them.
    fn states(&self) -> Map<String, Value> {
        lock(&self.widgets)
            .iter()
            .map(|(comm_id, state)| {
                let entry = json!({"model_name": MODEL_NAME, "model_module": "fake",
                                   "model_module_version": "0.1.0", "state": state});
                (comm_id.clone(), entry)
            })
            .collect()
    }
}

/// A comm id unique in this process and among kernels of this machine.
fn new_comm_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("fake-{:x}-{n}", std::process::id())
}
