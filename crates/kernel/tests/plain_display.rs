//! A user shows plain values: once the kernel is idle, `1+1` is compiled once (no "Fallback"
//! in `:timing`), a value with its own display keeps it, and `:fmt` and `:types` still apply.

mod common;

use common::{Exchange, Kernel};
use jupyter_protocol::JupyterMessageContent;
use std::time::Duration;

/// The cell's value as plain text, and its `:timing` line.
fn value_and_timing(exchange: &Exchange) -> (Option<String>, String) {
    let mut value = None;
    let mut timing = String::new();
    for content in exchange.contents() {
        match content {
            JupyterMessageContent::ExecuteResult(result) => {
                let data = serde_json::to_value(&result.data).unwrap();
                value = data["text/plain"].as_str().map(str::to_owned);
            }
            JupyterMessageContent::DisplayData(display) => {
                let data = serde_json::to_value(&display.data).unwrap();
                if let Some(text) = data["text/plain"].as_str() {
                    if text.starts_with("Took ") {
                        timing = text.to_owned();
                    }
                }
            }
            _ => {}
        }
    }
    (value, timing)
}

#[tokio::test]
async fn plain_values_compile_once_and_the_display_commands_still_apply() {
    let mut kernel = Kernel::start("plain-display").await;
    kernel.execute_ok(":timing").await;

    // The kernel defines its display trait when no request waits: an idle moment, then the
    // next `1+1` has no failed first compile. (Polled: the definition is a compile too.)
    let mut first_seen = None;
    for attempt in 0..20 {
        let exchange = kernel.execute_ok("1+1").await;
        let (value, timing) = value_and_timing(&exchange);
        assert_eq!(value.as_deref(), Some("2"), "{timing}");
        assert!(timing.starts_with("Took "), "no timing line: {timing:?}");
        if !timing.contains("Fallback") {
            first_seen = Some(attempt);
            break;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    assert!(
        first_seen.is_some(),
        "every `1+1` was compiled twice (a Fallback phase): {}",
        kernel.log()
    );
    let exchange = kernel.execute_ok("\"a string\"").await;
    let (value, timing) = value_and_timing(&exchange);
    assert_eq!(value.as_deref(), Some("\"a string\""));
    assert!(!timing.contains("Fallback"), "{timing}");

    // A variable declared without `mut` still shows (through evcxr's own fallback).
    kernel.execute_ok("let fixed = 7u8;").await;
    let (value, _) = value_and_timing(&kernel.execute_ok("fixed").await);
    assert_eq!(value.as_deref(), Some("7"));

    // `:fmt` and `:types` change how values are shown, as in evcxr.
    kernel.execute_ok(":fmt {:x}").await;
    let (value, _) = value_and_timing(&kernel.execute_ok("255").await);
    assert_eq!(value.as_deref(), Some("ff"));
    kernel.execute_ok(":fmt").await;
    kernel.execute_ok(":types").await;
    let (value, _) = value_and_timing(&kernel.execute_ok("3u16").await);
    assert_eq!(value.as_deref(), Some(": u16 = 3"));
    kernel.execute_ok(":types").await;

    // A value whose type has its own display, from a trait in scope, keeps it.
    kernel
        .execute_ok(
            "mod shown { pub trait Show { fn evcxr_display(&self); } }\n\
             #[derive(Debug)] struct Rich;\n\
             impl shown::Show for Rich { fn evcxr_display(&self) { \
             println!(\"EVCXR_BEGIN_CONTENT text/html\\n<b>rich</b>\\nEVCXR_END_CONTENT\"); } }\n\
             use shown::Show;",
        )
        .await;
    let exchange = kernel.execute_ok("Rich").await;
    let html = exchange.contents().find_map(|content| match content {
        JupyterMessageContent::ExecuteResult(result) => serde_json::to_value(&result.data).unwrap()
            ["text/html"]
            .as_str()
            .map(str::to_owned),
        _ => None,
    });
    assert_eq!(html.as_deref(), Some("<b>rich</b>"));
}
