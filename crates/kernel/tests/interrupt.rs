//! A user interrupts a runaway cell and keeps working.

mod common;

use common::Kernel;
use jupyter_protocol::{ExecuteRequest, InterruptRequest, JupyterMessage, JupyterMessageContent};
use std::time::Duration;

#[tokio::test]
async fn interrupting_an_endless_loop_stops_it_and_the_next_cell_runs() {
    let mut kernel = Kernel::start("interrupt").await;
    let runaway: JupyterMessage =
        ExecuteRequest::new("println!(\"spinning\");\nloop {}".into()).into();
    let runaway_id = runaway.header.msg_id.clone();
    kernel.shell.send(runaway).await.unwrap();
    // Wait until the loop really runs (its first line arrived), then interrupt.
    let started = kernel
        .collect_until_stream(&runaway_id, Duration::from_secs(120))
        .await;
    assert!(started, "the cell never started; log:\n{}", kernel.log());
    kernel
        .control
        .send(InterruptRequest {}.into())
        .await
        .unwrap();
    let interrupt_reply = tokio::time::timeout(Duration::from_secs(10), kernel.control.read())
        .await
        .expect("interrupt_reply in time")
        .unwrap();
    assert_eq!(interrupt_reply.header.msg_type, "interrupt_reply");

    let exchange = kernel
        .collect(&runaway_id, true, Duration::from_secs(60))
        .await;
    let reply = exchange.reply_json();
    assert_eq!(reply["status"], "error");
    assert_eq!(reply["ename"], "Interrupted");
    assert!(exchange
        .contents()
        .any(|c| matches!(c, JupyterMessageContent::ErrorOutput(_))));

    let after = kernel.execute_ok("1 + 1").await;
    let value = after
        .contents()
        .find_map(|c| match c {
            JupyterMessageContent::ExecuteResult(result) => serde_json::to_value(&result.data).ok(),
            _ => None,
        })
        .expect("a value after the interrupt");
    assert_eq!(value["text/plain"], "2");
}
