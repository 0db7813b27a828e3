//! Someone on the same machine, without the kernel's key, pokes at its ports; someone who
//! captured a signed message sends it again; a client sends a request it got wrong. The user's
//! kernel lives on and answers.

mod common;

use common::Kernel;
use jupyter_protocol::{
    ExecuteRequest, ExecutionState, JupyterMessage, JupyterMessageContent, KernelInfoRequest,
    UnknownMessage,
};
use serde_json::json;
use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

/// A ZMTP 3.0 greeting offering the NULL mechanism, as a client (libzmq or any other) sends.
fn zmtp_greeting() -> Vec<u8> {
    let mut greeting = vec![0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 3, 0];
    let mut mechanism = b"NULL".to_vec();
    mechanism.resize(20, 0);
    greeting.extend(mechanism);
    greeting.push(0); // as-server: no
    greeting.extend([0; 31]);
    greeting
}

/// The NULL mechanism's READY command, naming the peer's socket type.
fn zmtp_ready(socket_type: &str) -> Vec<u8> {
    let mut body = vec![5];
    body.extend(b"READY");
    body.push(11);
    body.extend(b"Socket-Type");
    body.extend(u32::try_from(socket_type.len()).unwrap().to_be_bytes());
    body.extend(socket_type.as_bytes());
    let mut command = vec![0x04, u8::try_from(body.len()).unwrap()];
    command.extend(body);
    command
}

/// The header of a long data frame announcing 2^62 bytes that will never come.
fn huge_frame_header() -> Vec<u8> {
    let mut header = vec![0x02];
    header.extend((1u64 << 62).to_be_bytes());
    header
}

/// Sends `bytes` to `port` on localhost and keeps the connection open a moment.
fn poke(port: u16, bytes: &[u8]) -> TcpStream {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to a kernel port");
    stream
        .set_write_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    // The kernel may close the connection as soon as it sees the header; that is fine.
    let _ = stream.write_all(bytes);
    stream
}

#[tokio::test]
async fn a_peer_without_the_key_announcing_a_huge_frame_on_any_port_cannot_kill_the_kernel() {
    let mut kernel = Kernel::start("huge-frame").await;
    let info = kernel.info.clone();
    let ports = [
        (info.shell_port, "DEALER"),
        (info.control_port, "DEALER"),
        (info.stdin_port, "DEALER"),
        (info.iopub_port, "SUB"),
        (info.hb_port, "REQ"),
    ];
    let mut connections = Vec::new();
    for (port, peer_type) in ports {
        // Right after the greeting, and after a proper handshake.
        connections.push(poke(port, &[zmtp_greeting(), huge_frame_header()].concat()));
        connections.push(poke(
            port,
            &[zmtp_greeting(), zmtp_ready(peer_type), huge_frame_header()].concat(),
        ));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        kernel.is_running(),
        "the kernel died; log:\n{}",
        kernel.log()
    );
    let info_reply = kernel
        .request_with_timeout(KernelInfoRequest {}.into(), Duration::from_secs(10))
        .await;
    assert_eq!(
        info_reply.reply_json()["status"],
        "ok",
        "log:\n{}",
        kernel.log()
    );
    let mut heartbeat = jupyter_zmq_client::create_client_heartbeat_connection(&kernel.info)
        .await
        .unwrap();
    tokio::time::timeout(Duration::from_secs(5), heartbeat.single_heartbeat())
        .await
        .expect("heartbeat answered in time")
        .unwrap();
    drop(connections);
}

#[tokio::test]
async fn messages_over_the_size_limit_are_dropped_and_the_kernel_goes_on() {
    let mut kernel =
        Kernel::start_with_env("size-limit", &[("FLOW_EDGE_MAX_MESSAGE_BYTES", "1048576")]).await;
    // Each over-size message comes on a connection of its own: the kernel may cut the sender.
    let one_big_frame: JupyterMessage =
        ExecuteRequest::new(format!("{}1", " ".repeat(2 << 20))).into();
    let small_frames_adding_up: JupyterMessage = JupyterMessage::new(KernelInfoRequest {}, None)
        .with_buffers(vec![vec![0u8; 400 << 10].into(); 3]);
    for (name, message) in [
        ("big-frame", one_big_frame),
        ("many-frames", small_frames_adding_up),
    ] {
        let identity = jupyter_zmq_client::peer_identity_for_session(name).unwrap();
        let mut sender = jupyter_zmq_client::create_client_shell_connection_with_identity(
            &kernel.info,
            name,
            identity,
        )
        .await
        .unwrap();
        sender.send(message).await.unwrap();
        // No reply comes: the read times out, or fails when the kernel cuts the sender.
        let answer = tokio::time::timeout(Duration::from_secs(3), sender.read()).await;
        assert!(
            !matches!(answer, Ok(Ok(_))),
            "{name}: an over-size message was answered"
        );
    }
    let still_alive = kernel
        .request_with_timeout(KernelInfoRequest {}.into(), Duration::from_secs(10))
        .await;
    assert_eq!(still_alive.reply_json()["status"], "ok");
    assert!(
        kernel.log().contains("exceeds the limit of 1048576 bytes"),
        "the refusal is logged:\n{}",
        kernel.log()
    );
}

#[tokio::test]
async fn a_replayed_signed_request_runs_only_once() {
    let mut kernel = Kernel::start("replay").await;
    let cell: JupyterMessage = ExecuteRequest::new("println!(\"ran\");".into()).into();
    let cell_id = cell.header.msg_id.clone();
    // The same message twice: same header, same signature, byte for byte.
    kernel.shell.send(cell.clone()).await.unwrap();
    kernel.shell.send(cell).await.unwrap();
    let probe: JupyterMessage = KernelInfoRequest {}.into();
    let probe_id = probe.header.msg_id.clone();
    kernel.shell.send(probe).await.unwrap();
    // The shell answers in order, so once the probe is answered a replay would have been too.
    let mut cell_replies = 0;
    let deadline = tokio::time::Instant::now() + common::CELL_TIMEOUT;
    loop {
        let reply = tokio::time::timeout_at(deadline, kernel.shell.read())
            .await
            .expect("the probe is answered in time")
            .expect("a readable reply");
        match common::parent_id(&reply) {
            Some(id) if id == cell_id => cell_replies += 1,
            Some(id) if id == probe_id => break,
            _ => {}
        }
    }
    assert_eq!(cell_replies, 1, "log:\n{}", kernel.log());
    assert!(
        kernel.log().contains("replayed message"),
        "the replay is logged:\n{}",
        kernel.log()
    );
}

#[tokio::test]
async fn a_signed_request_whose_content_does_not_parse_gets_an_error_reply_between_busy_and_idle() {
    let mut kernel = Kernel::start("bad-content").await;
    let wrong = UnknownMessage {
        msg_type: "execute_request".into(),
        content: json!({"code": 5, "silent": false}),
    };
    let exchange = kernel
        .request_with_timeout(JupyterMessage::new(wrong, None), Duration::from_secs(10))
        .await;
    let reply = exchange.reply.as_ref().expect("a reply, not silence");
    assert_eq!(reply.header.msg_type, "execute_reply");
    let content = exchange.reply_json();
    assert_eq!(content["status"], "error");
    assert!(content["ename"].is_string());
    assert!(
        content["evalue"]
            .as_str()
            .unwrap()
            .contains("execute_request"),
        "{content}"
    );
    let states: Vec<_> = exchange
        .contents()
        .filter_map(|content| match content {
            JupyterMessageContent::Status(status) => Some(status.execution_state.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(states, [ExecutionState::Busy, ExecutionState::Idle]);

    let after = kernel
        .request_with_timeout(KernelInfoRequest {}.into(), Duration::from_secs(10))
        .await;
    assert_eq!(after.reply_json()["status"], "ok");
}

#[tokio::test]
async fn a_connection_file_without_a_key_runs_unsigned_with_a_warning() {
    let mut kernel = Kernel::start_unsigned("no-key").await;
    let answered = kernel
        .request_with_timeout(KernelInfoRequest {}.into(), Duration::from_secs(10))
        .await;
    assert_eq!(answered.reply_json()["status"], "ok");
    let log = kernel.log();
    assert!(
        log.contains("warning") && log.contains("key is empty"),
        "the kernel warns about running unsigned:\n{log}"
    );
}
