//! A user runs cells in the flow-edge kernel: output streams, errors are errors, the
//! kernel answers the console's questions and survives garbage on its sockets.

mod common;

use common::{position, Kernel};
use jupyter_protocol::{
    CompleteRequest, ExecuteRequest, IsCompleteRequest, JupyterMessage, JupyterMessageContent,
    KernelInfoRequest, ShutdownRequest,
};
use std::time::Duration;
use zeromq::{Socket, SocketSend, ZmqMessage};

#[tokio::test]
async fn printed_lines_stream_while_the_cell_runs_and_the_value_comes_last() {
    let mut kernel = Kernel::start("stream").await;
    let exchange = kernel
        .execute_ok(
            "for i in 0..3 {\n    println!(\"line {i}\");\n    \
             std::thread::sleep(std::time::Duration::from_millis(700));\n}\n\
             eprintln!(\"to stderr\");\n40 + 2",
        )
        .await;
    assert_eq!(exchange.stream_text("stdout"), "line 0\nline 1\nline 2\n");
    assert!(exchange.stream_text("stderr").contains("to stderr"));
    let first_line = exchange
        .iopub
        .iter()
        .find(|r| matches!(r.message.content, JupyterMessageContent::StreamContent(_)))
        .expect("a stream message");
    let idle = exchange.iopub.last().expect("idle");
    assert!(
        idle.at.duration_since(first_line.at) >= Duration::from_millis(1200),
        "the first line arrived only {:?} before the end: output was not streamed",
        idle.at.duration_since(first_line.at)
    );
    let result = position(&exchange, |c| {
        matches!(c, JupyterMessageContent::ExecuteResult(_))
    })
    .expect("an execute_result");
    let last_stream = exchange
        .contents()
        .rposition(|c| matches!(c, JupyterMessageContent::StreamContent(_)))
        .unwrap();
    assert!(last_stream < result, "all output comes before the value");
    let JupyterMessageContent::ExecuteResult(value) = &exchange.iopub[result].message.content
    else {
        unreachable!()
    };
    let data = serde_json::to_value(&value.data).unwrap();
    assert_eq!(data["text/plain"], "42");
    // Jupyter's message schema wants objects here, not null.
    assert!(serde_json::to_value(value).unwrap()["transient"].is_object());
    assert!(exchange.reply_json()["user_expressions"].is_object());
}

#[tokio::test]
async fn a_compile_error_is_reported_with_rustc_message_queued_cells_are_aborted_and_the_kernel_goes_on(
) {
    let mut kernel = Kernel::start("compile-error").await;
    // "Run all": the next cell is already queued when the first one fails.
    let failing: JupyterMessage = ExecuteRequest::new("let x: i32 = \"text\";".into()).into();
    let queued: JupyterMessage = ExecuteRequest::new("println!(\"must not run\");".into()).into();
    let (failing_id, queued_id) = (failing.header.msg_id.clone(), queued.header.msg_id.clone());
    kernel.shell.send(failing).await.unwrap();
    kernel.shell.send(queued).await.unwrap();
    let exchange = kernel
        .collect(&failing_id, true, common::CELL_TIMEOUT)
        .await;
    let reply = exchange.reply_json();
    assert_eq!(reply["status"], "error");
    assert_eq!(reply["ename"], "CompileError");
    assert!(
        reply["evalue"]
            .as_str()
            .unwrap()
            .contains("mismatched types"),
        "{reply}"
    );
    let error = exchange
        .contents()
        .find_map(|c| match c {
            JupyterMessageContent::ErrorOutput(error) => Some(error.clone()),
            _ => None,
        })
        .expect("an error on iopub");
    assert!(error
        .traceback
        .iter()
        .any(|line| line.contains("mismatched types")));
    let skipped = kernel
        .collect(&queued_id, true, Duration::from_secs(30))
        .await;
    assert_eq!(skipped.reply_json()["status"], "aborted");
    assert_eq!(
        skipped.stream_text("stdout"),
        "",
        "the queued cell did not run"
    );

    kernel.execute_ok("let y = 2; y * 3").await;

    // evcxr catches a panicking cell and calls it a success; the kernel calls it a panic.
    let panicked = kernel
        .execute("let v: Vec<u8> = Vec::new();\npanic!(\"boom {}\", v.len());")
        .await;
    let reply = panicked.reply_json();
    assert_eq!(
        reply["status"],
        "error",
        "{reply} stderr: {:?}",
        panicked.stream_text("stderr")
    );
    assert_eq!(reply["ename"], "Panic");
    assert_eq!(reply["evalue"], "boom 0");
}

#[tokio::test]
async fn html_displayed_by_a_statement_is_display_data_and_evcxr_commands_work() {
    let mut kernel = Kernel::start("display").await;
    let exchange = kernel
        .execute("println!(\"EVCXR_BEGIN_CONTENT text/html\\n<b>bold</b>\\nEVCXR_END_CONTENT\");")
        .await;
    let display = exchange
        .contents()
        .find_map(|c| match c {
            JupyterMessageContent::DisplayData(display) => Some(display.clone()),
            _ => None,
        })
        .expect("display_data");
    assert_eq!(
        serde_json::to_value(&display.data).unwrap()["text/html"],
        "<b>bold</b>"
    );
    assert!(!exchange
        .contents()
        .any(|c| matches!(c, JupyterMessageContent::ExecuteResult(_))));

    kernel.execute("let answer = 42;").await;
    let vars = kernel.execute_ok(":vars").await;
    let shown = serde_json::to_string(
        &vars
            .iopub
            .iter()
            .map(|r| &r.message.content)
            .collect::<Vec<_>>(),
    )
    .unwrap();
    assert!(shown.contains("answer"), "{shown}");
}

#[tokio::test]
async fn the_console_gets_kernel_info_is_complete_and_completions() {
    let mut kernel = Kernel::start("console").await;
    let info = kernel
        .request_with_timeout(KernelInfoRequest {}.into(), Duration::from_secs(10))
        .await
        .reply_json();
    assert_eq!(info["protocol_version"], "5.3");
    assert_eq!(info["language_info"]["name"], "rust");
    assert_eq!(info["language_info"]["file_extension"], ".rs");
    assert_eq!(info["language_info"]["codemirror_mode"], "rust");
    assert_eq!(info["language_info"]["pygments_lexer"], "rust");

    for (code, status) in [
        ("fn main() {", "incomplete"),
        ("let s = \"open", "incomplete"),
        ("let x = 1;", "complete"),
    ] {
        let reply = kernel
            .request_with_timeout(
                IsCompleteRequest { code: code.into() }.into(),
                Duration::from_secs(10),
            )
            .await
            .reply_json();
        assert_eq!(reply["status"], status, "{code}");
    }

    let mut heartbeat = jupyter_zmq_client::create_client_heartbeat_connection(&kernel.info)
        .await
        .unwrap();
    tokio::time::timeout(Duration::from_secs(5), heartbeat.single_heartbeat())
        .await
        .expect("heartbeat answered in time")
        .unwrap();

    let code = "std::collections::HashM";
    let reply = kernel
        .request_with_timeout(
            CompleteRequest {
                code: code.into(),
                cursor_pos: code.len(),
            }
            .into(),
            Duration::from_secs(120),
        )
        .await
        .reply_json();
    let matches = reply["matches"].as_array().expect("matches");
    assert!(matches.iter().any(|m| m == "HashMap"), "{reply}");
    assert_eq!(reply["cursor_end"], code.len());
}

#[tokio::test]
async fn unsigned_wrongly_signed_and_truncated_messages_are_dropped_and_the_kernel_lives() {
    let mut kernel = Kernel::start("bad-messages").await;

    let mut forged_info = kernel.info.clone();
    forged_info.key = "not-the-key".into();
    let mut forger = jupyter_zmq_client::create_client_control_connection(&forged_info, "forger")
        .await
        .unwrap();
    forger.send(KernelInfoRequest {}.into()).await.unwrap();
    let answer = tokio::time::timeout(Duration::from_secs(2), forger.read()).await;
    assert!(
        answer.is_err(),
        "a wrongly signed request must not be answered"
    );

    let mut raw = zeromq::DealerSocket::new();
    raw.connect(&kernel.info.shell_url()).await.unwrap();
    for frames in [
        vec![&b"<IDS|MSG>"[..]],
        vec![b"<IDS|MSG>", b"", b"{}"],
        vec![b"garbage"],
    ] {
        let mut message = ZmqMessage::from(frames[0].to_vec());
        for frame in &frames[1..] {
            message.push_back(frame.to_vec().into());
        }
        raw.send(message).await.unwrap();
    }
    let unsigned: JupyterMessage = KernelInfoRequest {}.into();
    let mut unsigned_info = kernel.info.clone();
    unsigned_info.key = String::new();
    let mut unsigned_client =
        jupyter_zmq_client::create_client_control_connection(&unsigned_info, "unsigned")
            .await
            .unwrap();
    unsigned_client.send(unsigned).await.unwrap();
    assert!(
        tokio::time::timeout(Duration::from_secs(2), unsigned_client.read())
            .await
            .is_err()
    );

    let still_alive = kernel
        .request_with_timeout(KernelInfoRequest {}.into(), Duration::from_secs(10))
        .await;
    assert_eq!(still_alive.reply_json()["status"], "ok");
    assert!(
        kernel.log().contains("dropped"),
        "rejections are logged:\n{}",
        kernel.log()
    );
}

#[tokio::test]
async fn a_shutdown_request_is_answered_and_the_kernel_process_ends() {
    let mut kernel = Kernel::start("shutdown").await;
    kernel
        .control
        .send(ShutdownRequest { restart: true }.into())
        .await
        .unwrap();
    let reply = tokio::time::timeout(Duration::from_secs(10), kernel.control.read())
        .await
        .expect("shutdown_reply in time")
        .unwrap();
    let reply = serde_json::to_value(&reply.content).unwrap();
    assert_eq!(reply["restart"], true);
    assert_eq!(reply["status"], "ok");
    assert!(
        kernel.exited_within(Duration::from_secs(10)).await,
        "log:\n{}",
        kernel.log()
    );
}
