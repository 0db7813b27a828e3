//! A scripted interpreter for the protocol's tests: cells are commands ([`script`]), not
//! code, so nothing is compiled and a test kernel answers in milliseconds.
//!
//! It exercises everything the protocol side does with a real interpreter: streams while a
//! cell runs, displays, values, errors, a cell long enough to interrupt, and widget comms that
//! go through the kernel's real bridge, opened by a stand-in for the widgets library
//! ([`library`]) that connects to the bridge socket as the library does from evcxr's
//! subprocess. It runs nothing a cell says beyond those commands and reads only the
//! environment variable a cell names; the kernel serves it only when started with
//! `run --interpreter fake`.

mod library;
mod script;

use super::{
    Bundle, CellOutput, Completeness, Completions, ErrorReport, Interpreter, InterpreterInfo,
    LanguageFacts, StreamKind, StreamSink,
};
use library::Library;
use script::Command;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// The scripted interpreter.
pub struct FakeInterpreter {
    shared: Arc<Shared>,
}

struct Shared {
    sink: StreamSink,
    bridge_socket: PathBuf,
    cell: Mutex<CellState>,
    /// Wakes a sleeping cell when it is interrupted.
    wake: Condvar,
    /// One bridge connection per cell that opened widgets, as evcxr links a copy of the
    /// widgets library into each such cell.
    libraries: Mutex<Vec<Library>>,
}

#[derive(Default)]
struct CellState {
    running: bool,
    interrupted: bool,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl FakeInterpreter {
    /// A fake whose cells print into `sink` and open widgets on the bridge at `bridge_socket`.
    pub fn start(sink: StreamSink, bridge_socket: PathBuf) -> FakeInterpreter {
        FakeInterpreter {
            shared: Arc::new(Shared {
                sink,
                bridge_socket,
                cell: Mutex::new(CellState::default()),
                wake: Condvar::new(),
                libraries: Mutex::new(Vec::new()),
            }),
        }
    }
}

impl Interpreter for FakeInterpreter {
    async fn execute(&self, code: &str) -> Result<CellOutput, ErrorReport> {
        let shared = Arc::clone(&self.shared);
        let code = code.to_owned();
        // Sleeps and bridge round trips block; keep them off the protocol's threads.
        tokio::task::spawn_blocking(move || shared.run(&code))
            .await
            .unwrap_or_else(|error| {
                Err(ErrorReport::single(
                    "KernelError",
                    format!("the fake interpreter failed: {error}"),
                ))
            })
    }

    fn is_complete(&self, code: &str) -> Completeness {
        script::completeness(code)
    }

    async fn complete(&self, code: &str, cursor_pos: usize) -> Completions {
        script::complete(code, cursor_pos)
    }

    fn info(&self) -> InterpreterInfo {
        InterpreterInfo {
            language: LanguageFacts {
                name: "fake",
                version: env!("CARGO_PKG_VERSION").into(),
                mimetype: "text/plain",
                file_extension: ".txt",
                pygments_lexer: "text",
                codemirror_mode: "null",
            },
            banner: format!(
                "flow-edge {}: the scripted fake interpreter of the kernel's tests",
                env!("CARGO_PKG_VERSION")
            ),
            help_links: Vec::new(),
        }
    }

    fn interrupt(&self) -> bool {
        let mut cell = lock(&self.shared.cell);
        if !cell.running {
            return false;
        }
        cell.interrupted = true;
        self.shared.wake.notify_all();
        true
    }

    /// Stops a running cell and closes the bridge connections; nothing lives outside the
    /// process, so there is nothing to wait for.
    async fn shutdown(&self, _patience: Duration) {
        self.interrupt();
        lock(&self.shared.libraries).clear();
    }
}

impl Shared {
    /// Runs one cell on the calling (blocking) thread.
    fn run(&self, code: &str) -> Result<CellOutput, ErrorReport> {
        let commands = script::parse(code)
            .map_err(|error| ErrorReport::single("FakeSyntaxError", error.to_string()))?;
        *lock(&self.cell) = CellState {
            running: true,
            interrupted: false,
        };
        let mut cell_library = None;
        let outcome = self.run_commands(commands, &mut cell_library);
        lock(&self.cell).running = false;
        if let Some(library) = cell_library {
            lock(&self.libraries).push(library);
        }
        outcome
    }

    fn run_commands(
        &self,
        commands: Vec<Command>,
        cell_library: &mut Option<Library>,
    ) -> Result<CellOutput, ErrorReport> {
        let mut output = CellOutput::default();
        for command in commands {
            self.step(command, &mut output, cell_library)?;
            if lock(&self.cell).interrupted {
                return Err(interrupted());
            }
        }
        Ok(output)
    }

    fn step(
        &self,
        command: Command,
        output: &mut CellOutput,
        cell_library: &mut Option<Library>,
    ) -> Result<(), ErrorReport> {
        match command {
            Command::Print(text) => (self.sink)(StreamKind::Stdout, format!("{text}\n")),
            Command::Eprint(text) => (self.sink)(StreamKind::Stderr, format!("{text}\n")),
            Command::Display(html) => output
                .displays
                .push(bundle(&[("text/html", &html), ("text/plain", &html)])),
            Command::Value(text) => output.value = Some(bundle(&[("text/plain", &text)])),
            Command::Error { ename, evalue } => return Err(ErrorReport::single(&ename, evalue)),
            Command::Sleep(duration) => self.sleep(duration)?,
            Command::Env(name) => {
                let value = std::env::var(&name).unwrap_or_default();
                (self.sink)(StreamKind::Stdout, format!("{value}\n"));
            }
            Command::Widget(description) => {
                let library = match cell_library {
                    Some(library) => library,
                    None => cell_library
                        .insert(Library::connect(&self.bridge_socket).map_err(bridge_failed)?),
                };
                library.open_widget(&description).map_err(bridge_failed)?;
            }
            Command::Restart => {
                cell_library.take();
                lock(&self.libraries).clear();
            }
        }
        Ok(())
    }

    /// Waits `duration` unless the cell is interrupted first.
    fn sleep(&self, duration: Duration) -> Result<(), ErrorReport> {
        let deadline = Instant::now() + duration;
        let mut cell = lock(&self.cell);
        while !cell.interrupted {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(());
            }
            cell = self
                .wake
                .wait_timeout(cell, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        Err(interrupted())
    }
}

fn interrupted() -> ErrorReport {
    ErrorReport::single("Interrupted", String::from("The cell was interrupted."))
}

fn bridge_failed(error: library::LibraryError) -> ErrorReport {
    ErrorReport::single("BridgeError", error.to_string())
}

fn bundle(entries: &[(&str, &str)]) -> Bundle {
    entries
        .iter()
        .map(|(mime_type, content)| ((*mime_type).to_owned(), Value::from(*content)))
        .collect()
}
