//! What the command-line tests share: running the built `flow-edge` and reading its output.
// Each test file uses the part it needs.
#![allow(dead_code)]

use std::process::{Command, Output};

/// The `flow-edge` binary under test.
pub const FLOW_EDGE: &str = env!("CARGO_BIN_EXE_flow-edge");

/// Runs `flow-edge` with `arguments` and waits for it.
pub fn flow_edge(arguments: &[&str]) -> Output {
    Command::new(FLOW_EDGE)
        .args(arguments)
        .output()
        .expect("running flow-edge")
}

/// Output bytes as text, for assertions and messages.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `out`, after asserting that the command succeeded (its standard error in the message).
pub fn succeeded(out: Output, what: &str) -> Output {
    assert!(out.status.success(), "{what}: {}", text(&out.stderr));
    out
}
