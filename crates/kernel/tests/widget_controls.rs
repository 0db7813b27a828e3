//! The panel's controls through the real kernel: a user picks a host in a listbox, types an
//! IP and presses Enter, and sees the Rust callbacks' lines appear in an Output area.

mod common;

use common::widgets::{frontend_sends, id_of, messages_on, opened_widgets};
use common::{position, Exchange, Kernel};
use jupyter_protocol::{CommId, CommOpen, JupyterMessage, JupyterMessageContent};
use serde_json::json;
use std::time::Duration;

/// A Select, a Text, RadioButtons and an Output whose callbacks write into the Output.
const BUILD_CONTROLS: &str = r#"
use flow_edge_widgets::{Output, RadioButtons, Select, Text, VBox};
let hosts = Select::new(["- Select -", "10.0.0.1", "10.0.0.2"]);
hosts.set_description("Source IP");
let quick_ip = Text::new("");
quick_ip.set_placeholder("an IP");
let rating = RadioButtons::new(["1", "2", "3"]);
let log = Output::new();
let written = log.clone();
hosts.on_change(move |select| {
    written.append_stdout(&format!("selected {}\n", select.value().unwrap_or_default()));
});
let (written, picked_host, picked_rating) = (log.clone(), hosts.clone(), rating.clone());
quick_ip.on_submit(move |text| {
    written.append_html(&format!(
        "<b>{}</b> rated {} (listbox: {})",
        text.value(),
        picked_rating.value().unwrap_or_default(),
        picked_host.value().unwrap_or_default()
    ));
});
VBox::new([hosts.widget(), quick_ip.widget(), rating.widget(), log.widget()])
"#;

fn ends_idle_after(exchange: &Exchange, comm_id: &str) {
    let last = exchange.iopub.len() - 1;
    assert!(common::is_idle(&exchange.iopub[last].message), "ends idle");
    let update = position(
        exchange,
        |c| matches!(c, JupyterMessageContent::CommMsg(m) if m.comm_id.0 == comm_id),
    )
    .expect("an update of the output");
    assert!(update < last);
}

fn plain_result(exchange: &Exchange) -> String {
    exchange
        .contents()
        .find_map(|content| match content {
            JupyterMessageContent::ExecuteResult(result) => {
                let data = serde_json::to_value(&result.data).ok()?;
                data["text/plain"].as_str().map(str::to_owned)
            }
            _ => None,
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn browser_choices_reach_rust_callbacks_which_write_into_an_output_area() {
    let mut kernel = Kernel::start("controls").await;
    kernel.execute_ok(":dep flow_edge_widgets").await;
    let cell = kernel.execute_ok(BUILD_CONTROLS).await;
    let widgets = opened_widgets(&cell);
    let select = id_of(&widgets, "SelectModel");
    let text = id_of(&widgets, "TextModel");
    let radio = id_of(&widgets, "RadioButtonsModel");
    let output = id_of(&widgets, "OutputModel");
    let (_, output_state) = widgets.iter().find(|(id, _)| *id == output).unwrap();
    assert_eq!(output_state["_model_module"], "@jupyter-widgets/output");
    assert_eq!(output_state["_model_module_version"], "1.0.0");

    let picked = frontend_sends(
        &mut kernel,
        &select,
        json!({"method": "update", "state": {"index": 2}, "buffer_paths": []}),
    )
    .await;
    assert_eq!(
        messages_on(&picked, &select),
        [json!({"method": "echo_update", "state": {"index": 2}, "buffer_paths": []})]
    );
    assert_eq!(
        messages_on(&picked, &output),
        [json!({"method": "update", "state": {"outputs": [
            {"output_type": "stream", "name": "stdout", "text": "selected 10.0.0.2\n"}
        ]}, "buffer_paths": []})],
        "log:\n{}",
        kernel.log()
    );
    ends_idle_after(&picked, &output);

    frontend_sends(
        &mut kernel,
        &radio,
        json!({"method": "update", "state": {"index": 2}, "buffer_paths": []}),
    )
    .await;
    let typed = frontend_sends(
        &mut kernel,
        &text,
        json!({"method": "update", "state": {"value": "10.0.0.9"}, "buffer_paths": []}),
    )
    .await;
    assert_eq!(messages_on(&typed, &text)[0]["method"], "echo_update");
    let submitted = frontend_sends(
        &mut kernel,
        &text,
        json!({"method": "custom", "content": {"event": "submit"}}),
    )
    .await;
    let updates = messages_on(&submitted, &output);
    assert_eq!(updates.len(), 1, "{updates:?}");
    let outputs = &updates[0]["state"]["outputs"];
    assert_eq!(outputs[1]["output_type"], "display_data");
    assert_eq!(
        outputs[1]["data"]["text/html"],
        "<b>10.0.0.9</b> rated 3 (listbox: 10.0.0.2)"
    );
    ends_idle_after(&submitted, &output);

    let read_back = kernel
        .execute("format!(\"{:?} {} {:?}\", hosts.value(), quick_ip.value(), rating.index())")
        .await;
    assert_eq!(
        plain_result(&read_back),
        "\"Some(\\\"10.0.0.2\\\") 10.0.0.9 Some(2)\"",
        "the next cell reads the browser's choices; log:\n{}",
        kernel.log()
    );

    let closed = kernel.execute("log.close();").await;
    assert!(
        closed.contents().any(
            |c| matches!(c, JupyterMessageContent::CommClose(close) if close.comm_id.0 == output)
        ),
        "closing the output closes its comm"
    );
}

/// Widgets made by two cells: each cell that creates widgets links its own copy of the
/// library (evcxr links `:dep` crates statically into every cell), so each opens its own
/// bridge connection. The user's typing must reach both, and a page reload (the widget
/// manager's `request_states`) must get the widgets of both in one answer.
#[tokio::test]
async fn widgets_of_an_earlier_cell_still_hear_the_browser_after_a_later_cell_made_widgets() {
    let mut kernel = Kernel::start("two-cells").await;
    kernel.execute(":dep flow_edge_widgets").await;
    let mut ids = Vec::new();
    for name in ["first", "second"] {
        let cell = kernel
            .execute(&format!(
                "let {name} = flow_edge_widgets::Text::new(\"\"); {name}.model_id().to_owned()"
            ))
            .await;
        ids.push(plain_result(&cell).trim_matches('"').to_owned());
    }
    for id in &ids {
        let typed = frontend_sends(
            &mut kernel,
            id,
            json!({"method": "update", "state": {"value": "typed"}, "buffer_paths": []}),
        )
        .await;
        assert_eq!(
            messages_on(&typed, id),
            [json!({"method": "echo_update", "state": {"value": "typed"}, "buffer_paths": []})],
            "widget {id}: {}",
            typed.stream_text("stderr")
        );
    }
    let read = kernel
        .execute("format!(\"{} {}\", first.value(), second.value())")
        .await;
    assert_eq!(plain_result(&read), "\"typed typed\"");

    let control: JupyterMessage = CommOpen {
        comm_id: CommId("control-two-cells".into()),
        target_name: "jupyter.widget.control".into(),
        ..CommOpen::default()
    }
    .into();
    kernel.send_comm(control, Duration::from_secs(30)).await;
    let reload = frontend_sends(
        &mut kernel,
        "control-two-cells",
        json!({"method": "request_states"}),
    )
    .await;
    let answers = messages_on(&reload, "control-two-cells");
    assert_eq!(answers.len(), 1, "one update_states for the whole kernel");
    for id in &ids {
        assert_eq!(
            answers[0]["states"][id]["state"]["value"], "typed",
            "widget {id} is in the reloaded states"
        );
    }
}
