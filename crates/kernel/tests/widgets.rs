//! A user clicks a Rust button in a notebook and sees the HTML next to it change.

mod common;

use common::widgets::{frontend_sends, id_of, opened_widgets};
use common::{position, Exchange, Kernel};
use jupyter_protocol::{
    CommId, CommMsg, CommOpen, ExecuteRequest, InterruptRequest, JupyterMessage,
    JupyterMessageContent,
};
use serde_json::{json, Value};
use std::time::Duration;

/// The demo notebook's widget cell, after its `use flow_edge_widgets::...` line.
const BUILD_WIDGETS_BODY: &str = r#"
use std::sync::atomic::{AtomicUsize, Ordering};
let button = Button::new("Click me");
let status = Html::new("<b>not clicked yet</b>");
let clicks = AtomicUsize::new(0);
let shown = status.clone();
button.on_click(move |_| {
    let n = clicks.fetch_add(1, Ordering::SeqCst) + 1;
    shown.set_value(format!("<b>clicked {n} times</b>"));
});
VBox::new([button.widget(), status.widget()])
"#;

/// Sends the frontend's click on button `comm_id` and collects until idle.
async fn click(kernel: &mut Kernel, comm_id: &str) -> Exchange {
    frontend_sends(
        kernel,
        comm_id,
        json!({"method": "custom", "content": {"event": "click"}}),
    )
    .await
}

fn id_by_description(widgets: &[(String, Value)], description: &str) -> String {
    widgets
        .iter()
        .find(|(_, state)| state["description"] == description)
        .map(|(id, _)| id.clone())
        .unwrap_or_else(|| panic!("no button {description:?} opened"))
}

/// Timeout for widget callbacks in these tests, so a hung one is seen quickly.
const CALLBACK_TIMEOUT_SECS: &str = "2";

#[tokio::test]
async fn clicking_the_button_updates_the_html_before_the_kernel_goes_idle() {
    let mut kernel = Kernel::start_with_env(
        "widgets",
        &[("FLOW_EDGE_CALLBACK_TIMEOUT_SECS", CALLBACK_TIMEOUT_SECS)],
    )
    .await;
    kernel.execute_ok(":dep flow_edge_widgets").await;

    let cell = kernel
        .execute_ok(&format!(
            "use flow_edge_widgets::{{Button, Html, VBox}};{BUILD_WIDGETS_BODY}"
        ))
        .await;
    let widgets = opened_widgets(&cell);
    let (button, html, vbox) = (
        id_of(&widgets, "ButtonModel"),
        id_of(&widgets, "HTMLModel"),
        id_of(&widgets, "VBoxModel"),
    );
    let view_at = position(&cell, |c| {
        matches!(c, JupyterMessageContent::ExecuteResult(_))
    })
    .expect("the box is the cell's value");
    let JupyterMessageContent::ExecuteResult(result) = &cell.iopub[view_at].message.content else {
        unreachable!()
    };
    let data = serde_json::to_value(&result.data).unwrap();
    assert_eq!(
        data["application/vnd.jupyter.widget-view+json"]["model_id"],
        vbox.as_str()
    );
    assert!(data["text/plain"].as_str().unwrap().starts_with("VBox("));
    let last_open = cell
        .contents()
        .rposition(|c| matches!(c, JupyterMessageContent::CommOpen(_)))
        .unwrap();
    assert!(
        last_open < view_at,
        "every comm_open precedes the view naming the model"
    );
    let open_metadata = cell
        .iopub
        .iter()
        .find(|r| matches!(r.message.content, JupyterMessageContent::CommOpen(_)))
        .map(|r| r.message.metadata.clone())
        .unwrap();
    assert_eq!(open_metadata["version"], "2.1.0");

    for n in 1..=2 {
        let exchange = click(&mut kernel, &button).await;
        let update = position(
            &exchange,
            |c| matches!(c, JupyterMessageContent::CommMsg(msg) if msg.comm_id.0 == html),
        )
        .unwrap_or_else(|| panic!("no HTML update after click {n}; log:\n{}", kernel.log()));
        let JupyterMessageContent::CommMsg(msg) = &exchange.iopub[update].message.content else {
            unreachable!()
        };
        assert_eq!(msg.data["method"], "update");
        assert_eq!(
            msg.data["state"]["value"],
            format!("<b>clicked {n} times</b>")
        );
        let idle = exchange.iopub.len() - 1;
        assert!(common::is_idle(&exchange.iopub[idle].message), "ends idle");
        assert!(update < idle);
        assert!(matches!(&exchange.iopub[0].message.content,
            JupyterMessageContent::Status(s) if s.execution_state == jupyter_protocol::ExecutionState::Busy));
    }

    let control: JupyterMessage = CommOpen {
        comm_id: CommId("control-1".into()),
        target_name: "jupyter.widget.control".into(),
        ..CommOpen::default()
    }
    .into();
    kernel.send_comm(control, Duration::from_secs(30)).await;
    let request_states: JupyterMessage = CommMsg {
        comm_id: CommId("control-1".into()),
        data: json!({"method": "request_states"})
            .as_object()
            .cloned()
            .unwrap(),
    }
    .into();
    let states = kernel
        .send_comm(request_states, Duration::from_secs(30))
        .await;
    let answer = states
        .contents()
        .find_map(|c| match c {
            JupyterMessageContent::CommMsg(msg) if msg.comm_id.0 == "control-1" => {
                Some(msg.data.clone())
            }
            _ => None,
        })
        .expect("update_states on the control comm");
    assert_eq!(answer["method"], "update_states");
    assert_eq!(
        answer["states"][&html]["state"]["value"], "<b>clicked 2 times</b>",
        "the states reflect the clicks"
    );
}

const MISBEHAVING_CALLBACKS: &str = r#"
use flow_edge_widgets::print_to_frontend;
let talk = Button::new("talk");
talk.on_click(|_| print_to_frontend("hello from a callback\n"));
let slow = Button::new("slow");
slow.on_click(|_| std::thread::sleep(std::time::Duration::from_secs(4)));
let boom = Button::new("boom");
boom.on_click(|_| panic!("boom in a callback"));
"#;

#[tokio::test]
async fn callbacks_that_print_hang_or_panic_are_reported_and_widgets_survive_an_interrupt() {
    let mut kernel = Kernel::start_with_env(
        "callbacks",
        &[("FLOW_EDGE_CALLBACK_TIMEOUT_SECS", CALLBACK_TIMEOUT_SECS)],
    )
    .await;
    kernel.execute(":dep flow_edge_widgets").await;
    kernel
        .execute("use flow_edge_widgets::{Button, Html, VBox};")
        .await;
    let cell = kernel.execute_ok(MISBEHAVING_CALLBACKS).await;
    let widgets = opened_widgets(&cell);

    let talked = click(&mut kernel, &id_by_description(&widgets, "talk")).await;
    assert_eq!(talked.stream_text("stdout"), "hello from a callback\n");

    let started = std::time::Instant::now();
    let hung = click(&mut kernel, &id_by_description(&widgets, "slow")).await;
    assert!(
        common::is_idle(&hung.iopub.last().unwrap().message),
        "idle despite the hung callback"
    );
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "the kernel did not wait for the callback"
    );
    assert!(
        hung.stream_text("stderr").contains("still runs"),
        "{}",
        hung.stream_text("stderr")
    );

    // Let the slow callback finish: until it does, the kernel refuses the cell's events.
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let panicked = click(&mut kernel, &id_by_description(&widgets, "boom")).await;
    assert!(
        panicked
            .stream_text("stderr")
            .contains("boom in a callback"),
        "{}",
        panicked.stream_text("stderr")
    );

    let runaway: JupyterMessage = ExecuteRequest::new("println!(\"spin\");\nloop {}".into()).into();
    let runaway_id = runaway.header.msg_id.clone();
    kernel.shell.send(runaway).await.unwrap();
    assert!(
        kernel
            .collect_until_stream(&runaway_id, Duration::from_secs(120))
            .await
    );
    kernel
        .control
        .send(InterruptRequest {}.into())
        .await
        .unwrap();
    let interrupted = kernel
        .collect(&runaway_id, true, Duration::from_secs(60))
        .await;
    assert_eq!(interrupted.reply_json()["ename"], "Interrupted");

    // evcxr restarted its subprocess: the library connects again on first use.
    let again = kernel
        .execute_ok(&format!(
            "use flow_edge_widgets::{{Button, Html, VBox}};{BUILD_WIDGETS_BODY}"
        ))
        .await;
    let widgets = opened_widgets(&again);
    let html = id_of(&widgets, "HTMLModel");
    let clicked = click(&mut kernel, &id_of(&widgets, "ButtonModel")).await;
    assert!(
        clicked
            .contents()
            .any(|c| matches!(c, JupyterMessageContent::CommMsg(m)
            if m.comm_id.0 == html && m.data["state"]["value"] == "<b>clicked 1 times</b>")),
        "log:\n{}",
        kernel.log()
    );
}

const STUCK_CALLBACK: &str = r#"
use flow_edge_widgets::{print_to_frontend, Button};
let stuck = Button::new("stuck");
stuck.on_click(|_| std::thread::sleep(std::time::Duration::from_secs(8)));
let quick = Button::new("quick");
quick.on_click(|_| print_to_frontend("quick answered\n"));
"#;

#[tokio::test]
async fn after_a_callback_times_out_the_cells_events_fail_fast_until_it_returns() {
    let mut kernel = Kernel::start_with_env(
        "stuck-callback",
        &[("FLOW_EDGE_CALLBACK_TIMEOUT_SECS", CALLBACK_TIMEOUT_SECS)],
    )
    .await;
    kernel.execute_ok(":dep flow_edge_widgets").await;
    let cell = kernel.execute_ok(STUCK_CALLBACK).await;
    let widgets = opened_widgets(&cell);
    let (stuck, quick) = (
        id_by_description(&widgets, "stuck"),
        id_by_description(&widgets, "quick"),
    );

    let clicked_at = std::time::Instant::now();
    let hung = click(&mut kernel, &stuck).await;
    assert!(hung.stream_text("stderr").contains("still runs"));

    let started = std::time::Instant::now();
    let refused = click(&mut kernel, &quick).await;
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "the event waited {:?} behind the stuck callback",
        started.elapsed()
    );
    assert!(
        common::is_idle(&refused.iopub.last().unwrap().message),
        "ends idle"
    );
    let said = refused.stream_text("stderr");
    assert!(
        said.contains("widgets are busy") && said.contains("has not returned for"),
        "{said}"
    );
    assert_eq!(refused.stream_text("stdout"), "");

    // Once the stuck callback returns (its done arrives), events flow again.
    let mut recovered = false;
    while !recovered && clicked_at.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(500)).await;
        recovered = click(&mut kernel, &quick).await.stream_text("stdout") == "quick answered\n";
    }
    assert!(recovered, "log:\n{}", kernel.log());
    assert!(clicked_at.elapsed() >= Duration::from_secs(7));
}

#[tokio::test]
async fn without_widgets_the_kernel_itself_answers_request_states_with_nothing() {
    let mut kernel = Kernel::start("no-widgets").await;
    let open: JupyterMessage = CommOpen {
        comm_id: CommId("control-0".into()),
        target_name: "jupyter.widget.control".into(),
        ..CommOpen::default()
    }
    .into();
    kernel.send_comm(open, Duration::from_secs(10)).await;
    let ask: JupyterMessage = CommMsg {
        comm_id: CommId("control-0".into()),
        data: json!({"method": "request_states"})
            .as_object()
            .cloned()
            .unwrap(),
    }
    .into();
    let exchange = kernel.send_comm(ask, Duration::from_secs(10)).await;
    let answer = exchange
        .contents()
        .find_map(|c| match c {
            JupyterMessageContent::CommMsg(msg) => Some(Value::Object(msg.data.clone())),
            _ => None,
        })
        .expect("an answer");
    assert_eq!(answer["method"], "update_states");
    assert_eq!(answer["states"], json!({}));
}
