//! The values that cross the seam between the protocol side and an interpreter.
//!
//! Plain Rust data: no Jupyter message types and no evcxr types. An interpreter builds them
//! from whatever its language gives back; the protocol side turns them into messages.

use serde_json::{Map, Value};
use std::sync::Arc;

/// A mime bundle: mime type → content (a JSON object for JSON mime types, else a string).
pub type Bundle = Map<String, Value>;

/// What a successful cell shows, besides the text it streamed.
#[derive(Debug, Default, PartialEq)]
pub struct CellOutput {
    /// The cell's value (its final expression), shown as an `execute_result`.
    pub value: Option<Bundle>,
    /// What the cell displayed on purpose, in order, shown as `display_data`.
    pub displays: Vec<Bundle>,
}

/// Why a cell failed, in the shape Jupyter wants for an `error` output and an error reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorReport {
    pub ename: String,
    pub evalue: String,
    pub traceback: Vec<String>,
}

impl ErrorReport {
    /// A report whose traceback is its one-line message.
    pub fn single(ename: &str, evalue: String) -> ErrorReport {
        ErrorReport {
            ename: ename.to_owned(),
            traceback: vec![evalue.clone()],
            evalue,
        }
    }
}

/// Which stream a piece of text came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamKind {
    Stdout,
    Stderr,
}

/// Where a running cell's text goes as it comes (the protocol side publishes it on iopub,
/// under the request being handled).
pub type StreamSink = Arc<dyn Fn(StreamKind, String) + Send + Sync>;

/// Completion candidates, with the replaced range in characters (Jupyter counts code points).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Completions {
    pub matches: Vec<String>,
    pub cursor_start: usize,
    pub cursor_end: usize,
}

/// The answer to `is_complete_request`.
#[derive(Debug, PartialEq, Eq)]
pub enum Completeness {
    /// Ready to run.
    Complete,
    /// More lines are needed; `indent` is a hint for the next line.
    Incomplete { indent: String },
    /// Can never become valid by adding lines.
    Invalid,
}

/// Facts about the language for `kernel_info`'s `language_info`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LanguageFacts {
    pub name: &'static str,
    pub version: String,
    pub mimetype: &'static str,
    pub file_extension: &'static str,
    pub pygments_lexer: &'static str,
    pub codemirror_mode: &'static str,
}

/// A link a frontend shows in its help menu.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelpLink {
    pub text: &'static str,
    pub url: &'static str,
}

/// What `kernel_info` says about the interpreter behind the kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterpreterInfo {
    pub language: LanguageFacts,
    /// The line a console prints when it connects.
    pub banner: String,
    pub help_links: Vec<HelpLink>,
}
