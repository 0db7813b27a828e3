//! The interpreter side of the kernel: what the protocol side asks of a language.
//!
//! As in xeus, the protocol server (sockets, signing, busy/idle, routing, history, comms)
//! knows a language only through the [`Interpreter`] trait: it hands over code and gets plain
//! values back ([`values`]), never a Jupyter message or an evcxr type. Two implement it:
//!
//! - [`rust::RustInterpreter`]: Rust cells on evcxr, the kernel users run.
//! - [`fake::FakeInterpreter`]: a scripted stand-in (`print hello`, `sleep 2`, `widget ok`)
//!   that compiles nothing, so the protocol's tests run in seconds
//!   (`flow-edge-kernel run --interpreter fake`).

pub mod fake;
pub mod rust;
mod values;

pub use values::{
    Bundle, CellOutput, Completeness, Completions, ErrorReport, HelpLink, InterpreterInfo,
    LanguageFacts, StreamKind, StreamSink,
};

use std::future::Future;
use std::time::Duration;

/// A language the kernel serves.
///
/// The protocol side calls `execute`, `complete` and `is_complete` from the shell loop, one
/// request at a time, and `interrupt` from the control loop or a SIGINT while `execute` is
/// pending, so `interrupt` must take effect without waiting for the cell.
pub trait Interpreter: Send + Sync + 'static {
    /// Runs one cell. Text the cell prints goes to the [`StreamSink`] the interpreter was
    /// started with, as it comes and before this resolves; the value, the displays or the
    /// error come back here.
    fn execute(&self, code: &str) -> impl Future<Output = Result<CellOutput, ErrorReport>> + Send;

    /// Whether `code` is ready to run or a console should wait for more lines.
    fn is_complete(&self, code: &str) -> Completeness;

    /// Completions at `cursor_pos`, counted in characters.
    fn complete(&self, code: &str, cursor_pos: usize) -> impl Future<Output = Completions> + Send;

    /// The language, banner and help links for `kernel_info`.
    fn info(&self) -> InterpreterInfo;

    /// Stops the running cell, whose `execute` then resolves with an error; does nothing when
    /// no cell runs. Returns whether a cell was interrupted.
    fn interrupt(&self) -> bool;

    /// Releases what the interpreter holds outside the process (subprocesses, build
    /// folders) before the kernel exits; gives up after `patience`.
    fn shutdown(&self, patience: Duration) -> impl Future<Output = ()> + Send;
}
