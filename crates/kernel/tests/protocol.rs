//! What a frontend sees of the kernel's protocol side (signing, busy/idle around a cell,
//! history, comms, interrupt and shutdown), against the scripted fake interpreter (`run --interpreter fake`): these
//! run in seconds because nothing is compiled. The same protocol with Rust cells on evcxr is
//! tested in `execute.rs`, `interrupt.rs` and `widgets.rs`.

mod common;

use common::widgets::{frontend_sends, messages_on, opened_widgets};
use common::{stream_text, Exchange, Kernel};
use jupyter_protocol::{
    CommClose, CommId, CommInfoRequest, ExecuteRequest, ExecutionState, HistoryRequest,
    InterruptRequest, JupyterMessage, JupyterMessageContent, ShutdownRequest,
};
use serde_json::{json, Value};
use std::time::Duration;

/// Long enough for the fake to answer on a busy machine; it usually takes milliseconds.
const ANSWER: Duration = Duration::from_secs(10);

/// The `msg_type`s of the iopub messages of `exchange`, in order.
fn iopub_types(exchange: &Exchange) -> Vec<&str> {
    exchange
        .iopub
        .iter()
        .map(|received| received.message.header.msg_type.as_str())
        .collect()
}

/// The `execution_state`s published for `exchange`, in order.
fn states(exchange: &Exchange) -> Vec<ExecutionState> {
    exchange
        .contents()
        .filter_map(|content| match content {
            JupyterMessageContent::Status(status) => Some(status.execution_state.clone()),
            _ => None,
        })
        .collect()
}

async fn request(kernel: &mut Kernel, message: JupyterMessage) -> Value {
    kernel
        .request_with_timeout(message, ANSWER)
        .await
        .reply_json()
}

#[tokio::test]
async fn a_cell_is_framed_by_busy_and_idle_with_its_input_output_and_value_between() {
    let mut kernel = Kernel::start_fake("busy-idle").await;

    let cell = kernel.execute_ok("print hello\nvalue 42").await;

    assert_eq!(
        iopub_types(&cell),
        [
            "status",
            "execute_input",
            "stream",
            "execute_result",
            "status"
        ]
    );
    assert_eq!(states(&cell), [ExecutionState::Busy, ExecutionState::Idle]);
    assert_eq!(cell.stream_text("stdout"), "hello\n");
    assert_eq!(cell.reply_json()["execution_count"], 1);

    let failed = kernel.execute("error NameError x is not defined").await;
    assert_eq!(
        iopub_types(&failed),
        ["status", "execute_input", "error", "status"]
    );
    let reply = failed.reply_json();
    assert_eq!(reply["status"], "error");
    assert_eq!(reply["ename"], "NameError");
    assert_eq!(reply["evalue"], "x is not defined");
    assert_eq!(reply["execution_count"], 2);
}

#[tokio::test]
async fn a_wrongly_signed_request_is_dropped_unrun_and_the_next_signed_one_answered() {
    let mut kernel = Kernel::start_fake("signatures").await;

    let mut forged_info = kernel.info.clone();
    forged_info.key = "not-the-key".into();
    let identity = jupyter_zmq_client::peer_identity_for_session("forger").unwrap();
    let mut forger = jupyter_zmq_client::create_client_shell_connection_with_identity(
        &forged_info,
        "forger",
        identity,
    )
    .await
    .unwrap();
    forger
        .send(ExecuteRequest::new("print forged".into()).into())
        .await
        .unwrap();
    let answer = tokio::time::timeout(Duration::from_secs(1), forger.read()).await;
    assert!(answer.is_err(), "a wrongly signed request is not answered");

    let genuine = kernel.execute_ok("print genuine").await;
    assert_eq!(genuine.stream_text("stdout"), "genuine\n");
    assert_eq!(
        genuine.reply_json()["execution_count"],
        1,
        "the forged cell never ran, so it was not counted"
    );
    let forged_ran = kernel
        .wait_for_iopub(
            |message| stream_text(message).is_some_and(|text| text.contains("forged")),
            Duration::from_millis(500),
        )
        .await;
    assert!(forged_ran.is_none(), "the forged cell printed");
    assert!(kernel.log().contains("dropped"), "log:\n{}", kernel.log());
}

#[tokio::test]
async fn history_gives_back_the_cells_run_with_their_counts_and_values() {
    let mut kernel = Kernel::start_fake("history").await;
    kernel.execute_ok("print first").await;
    kernel.execute_ok("value two").await;
    let mut silent = ExecuteRequest::new("print not kept".into());
    silent.store_history = false;
    kernel.request_with_timeout(silent.into(), ANSWER).await;

    let tail = HistoryRequest::Tail {
        n: 10,
        output: true,
        raw: true,
    };
    let reply = request(&mut kernel, tail.into()).await;
    assert_eq!(reply["status"], "ok");
    assert_eq!(
        reply["history"],
        json!([[1, 1, ["print first", ""]], [1, 2, ["value two", "two"]]])
    );

    let search = HistoryRequest::Search {
        pattern: "print*".into(),
        unique: true,
        output: false,
        raw: true,
        n: 10,
    };
    let reply = request(&mut kernel, search.into()).await;
    assert_eq!(reply["history"], json!([[1, 1, "print first"]]));
}

#[tokio::test]
async fn a_comm_opened_by_the_cells_library_hears_the_frontend_through_the_bridge() {
    let mut kernel = Kernel::start_fake("comms").await;

    let cell = kernel.execute_ok("widget Click me").await;
    let widgets = opened_widgets(&cell);
    assert_eq!(widgets.len(), 1, "one comm_open on jupyter.widget");
    let (comm_id, state) = &widgets[0];
    assert_eq!(state["description"], "Click me");
    let comm_open = cell
        .iopub
        .iter()
        .position(|received| received.message.header.msg_type == "comm_open");
    assert!(
        comm_open.is_some_and(|at| at + 1 < cell.iopub.len()),
        "the comm opened before the cell went idle"
    );

    let click = frontend_sends(
        &mut kernel,
        comm_id,
        json!({"method": "custom", "content": {"event": "click"}}),
    )
    .await;
    assert_eq!(
        messages_on(&click, comm_id),
        [
            json!({"method": "update", "state": {"clicks": 1, "value": "clicked 1 times"}, "buffer_paths": []})
        ]
    );
    assert_eq!(
        states(&click),
        [ExecutionState::Busy, ExecutionState::Idle],
        "the library's answer comes between busy and idle"
    );

    let listed = request(&mut kernel, CommInfoRequest { target_name: None }.into()).await;
    assert_eq!(
        listed["comms"][comm_id.as_str()]["target_name"],
        "jupyter.widget"
    );

    let close: JupyterMessage = CommClose {
        comm_id: CommId(comm_id.clone()),
        data: Default::default(),
    }
    .into();
    kernel.send_comm(close, ANSWER).await;
    let listed = request(&mut kernel, CommInfoRequest { target_name: None }.into()).await;
    assert_eq!(listed["comms"], json!({}));
}

#[tokio::test]
async fn an_interrupt_on_control_ends_a_long_cell_and_a_shutdown_ends_the_kernel() {
    let mut kernel = Kernel::start_fake("interrupt").await;
    let long: JupyterMessage = ExecuteRequest::new("print started\nsleep 60".into()).into();
    let long_id = long.header.msg_id.clone();
    kernel.shell.send(long).await.unwrap();
    assert!(kernel.collect_until_stream(&long_id, ANSWER).await);

    kernel
        .control
        .send(InterruptRequest {}.into())
        .await
        .unwrap();
    let interrupt_reply = tokio::time::timeout(ANSWER, kernel.control.read())
        .await
        .expect("interrupt_reply in time")
        .unwrap();
    assert_eq!(interrupt_reply.header.msg_type, "interrupt_reply");
    let interrupted = kernel.collect(&long_id, true, ANSWER).await;
    assert_eq!(interrupted.reply_json()["ename"], "Interrupted");
    kernel.execute_ok("print still here").await;

    kernel
        .control
        .send(ShutdownRequest { restart: false }.into())
        .await
        .unwrap();
    let shutdown_reply = tokio::time::timeout(ANSWER, kernel.control.read())
        .await
        .expect("shutdown_reply in time")
        .unwrap();
    assert_eq!(shutdown_reply.header.msg_type, "shutdown_reply");
    assert!(kernel.exited_within(ANSWER).await, "log:\n{}", kernel.log());
}
