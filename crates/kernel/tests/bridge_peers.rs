//! A widgets library that misbehaves on the bridge (here a raw peer on the socket named by
//! `FLOW_EDGE_BRIDGE`, as cell code sees it): lines that never end, bytes that are not text, a
//! peer that stops reading. The kernel keeps its memory, skips what it cannot use, cuts what
//! stalls it, and says so.

mod common;

use common::widgets::frontend_sends;
use common::Kernel;
use jupyter_protocol::KernelInfoRequest;
use serde_json::json;
use std::path::Path;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::UnixStream;

/// A library's end of the bridge, speaking raw lines.
struct RawLibrary {
    lines: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
}

impl RawLibrary {
    async fn connect(path: &Path) -> RawLibrary {
        let stream = UnixStream::connect(path)
            .await
            .expect("connect to the bridge");
        let (reader, writer) = stream.into_split();
        RawLibrary {
            lines: BufReader::new(reader),
            writer,
        }
    }

    async fn send(&mut self, bytes: &[u8]) {
        tokio::time::timeout(Duration::from_secs(30), self.writer.write_all(bytes))
            .await
            .expect("the kernel reads the bridge")
            .expect("bridge write");
    }

    /// Opens widget comm `comm_id` as the library does and waits for the kernel's `ack`.
    async fn open_comm(&mut self, seq: u64, comm_id: &str) {
        let line = json!({"type": "comm_open", "seq": seq, "comm_id": comm_id,
                          "target_name": "jupyter.widget", "data": {}, "metadata": {}});
        self.send(format!("{line}\n").as_bytes()).await;
        self.expect_ack(seq).await;
    }

    /// Reads lines until the `ack` of `seq`; panics after 10 s.
    async fn expect_ack(&mut self, seq: u64) {
        let wanted = json!({"type": "ack", "seq": seq});
        let found = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                let mut line = String::new();
                if self.lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                    return false;
                }
                if serde_json::from_str::<serde_json::Value>(&line).ok() == Some(wanted.clone()) {
                    return true;
                }
            }
        })
        .await;
        assert_eq!(found, Ok(true), "no ack for {seq}");
    }
}

#[tokio::test]
async fn a_line_over_the_limit_is_discarded_without_growing_the_kernel_and_the_link_goes_on() {
    let mut kernel = Kernel::start_with_env(
        "bridge-long-line",
        &[("FLOW_EDGE_BRIDGE_MAX_LINE_BYTES", "1048576")],
    )
    .await;
    let path = kernel.bridge_path().await;
    let mut library = RawLibrary::connect(&path).await;
    library.open_comm(1, "raw-1").await;

    let before = kernel.resident_bytes();
    let chunk = vec![b'x'; 1 << 20];
    for _ in 0..64 {
        library.send(&chunk).await;
    }
    // Let the kernel read what is still in the socket's buffer.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let grown = kernel.resident_bytes().saturating_sub(before);
    assert!(
        grown < 16 << 20,
        "64 MiB without a newline grew the kernel by {} MiB",
        grown >> 20
    );
    library.send(b"\n").await;
    library.open_comm(2, "raw-2").await;
    let told = kernel
        .wait_for_iopub(
            |message| common::stream_text(message).is_some_and(|text| text.contains("limit")),
            Duration::from_secs(10),
        )
        .await;
    assert!(
        told.is_some(),
        "the frontend is told; log:\n{}",
        kernel.log()
    );
}

#[tokio::test]
async fn lines_that_are_not_utf8_or_not_messages_are_skipped_and_the_link_goes_on() {
    let mut kernel = Kernel::start("bridge-bad-lines").await;
    let path = kernel.bridge_path().await;
    let mut library = RawLibrary::connect(&path).await;
    library.open_comm(1, "raw-1").await;
    library.send(b"\xff\xfe{\"type\":\"ack\"}\n").await;
    library.send(b"not json\n").await;
    library.open_comm(2, "raw-2").await;
    let log = kernel.log();
    assert!(log.contains("not UTF-8"), "{log}");
    assert!(log.contains("not JSON"), "{log}");
}

#[tokio::test]
async fn a_library_that_stops_reading_is_cut_after_the_write_deadline_and_the_kernel_answers() {
    let mut kernel = Kernel::start_with_env(
        "bridge-stalled",
        &[("FLOW_EDGE_BRIDGE_WRITE_TIMEOUT_SECS", "2")],
    )
    .await;
    let path = kernel.bridge_path().await;
    let mut library = RawLibrary::connect(&path).await;
    library.open_comm(1, "raw-stalled").await;

    // The library reads no more; the frontend sends far more than the socket buffers.
    let big = "x".repeat(16 << 20);
    let exchange = tokio::time::timeout(
        Duration::from_secs(30),
        frontend_sends(
            &mut kernel,
            "raw-stalled",
            json!({"method": "update", "state": {"value": big}, "buffer_paths": []}),
        ),
    )
    .await
    .expect("the comm message is done with in time");
    assert!(
        exchange
            .iopub
            .last()
            .is_some_and(|last| common::is_idle(&last.message)),
        "the kernel went idle; log:\n{}",
        kernel.log()
    );
    assert!(
        exchange.stream_text("stderr").contains("did not read"),
        "the frontend is told: {:?}; iopub: {:?}; log:\n{}",
        exchange.stream_text("stderr"),
        exchange
            .iopub
            .iter()
            .map(|r| r.message.header.msg_type.clone())
            .collect::<Vec<_>>(),
        kernel.log()
    );

    let answered = kernel
        .request_with_timeout(KernelInfoRequest {}.into(), Duration::from_secs(10))
        .await;
    assert_eq!(answered.reply_json()["status"], "ok");

    // The kernel closed its end: the library reads what was sent, then the end of the stream.
    let mut sink = Vec::new();
    let ended = tokio::time::timeout(
        Duration::from_secs(10),
        library.lines.read_to_end(&mut sink),
    )
    .await;
    assert!(
        matches!(ended, Ok(Ok(_))),
        "the link was not closed: {ended:?}"
    );
}
