//! Output from widget callbacks.
//!
//! Callbacks run between cells, when evcxr is not reading the subprocess's stdout: text
//! printed there would surface under some later cell, and past 64 KiB block the callback.
//! These functions send the text to the frontend through the kernel instead.

use crate::session::Session;
use crate::wire::StreamName;

/// Shows `text` as standard output on the frontend (use instead of `print!` in callbacks).
pub fn print_to_frontend(text: &str) {
    Session::current().stream(StreamName::Stdout, text);
}

/// Shows `text` as standard error on the frontend (use instead of `eprint!` in callbacks).
pub fn eprint_to_frontend(text: &str) {
    Session::current().stream(StreamName::Stderr, text);
}
