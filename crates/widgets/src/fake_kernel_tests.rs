//! The library against a pure-Rust fake of the kernel's end of the bridge socket.

use crate::display::NEEDS_KERNEL;
use crate::fake_kernel::{comm_msg_data, FakeKernel};
use crate::model::Model;
use crate::session::Session;
use crate::wire::{BridgeMessage, StreamName};
use crate::{Button, Html, VBox};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

#[test]
fn creating_a_button_opens_its_layout_and_style_before_the_button_itself() {
    let kernel = FakeKernel::start("open-order");
    let button = Button::new("Click me");
    let opened: Vec<BridgeMessage> = (0..3).map(|_| kernel.next_published()).collect();
    let targets: Vec<(String, Value)> = opened
        .iter()
        .map(|message| match message {
            BridgeMessage::CommOpen {
                comm_id,
                target_name,
                data,
                metadata,
                ..
            } => {
                assert_eq!(target_name, "jupyter.widget");
                assert_eq!(metadata, &json!({"version": "2.1.0"}));
                (comm_id.clone(), data["state"].clone())
            }
            other => panic!("expected comm_open, got {other:?}"),
        })
        .collect();
    assert_eq!(targets[0].1["_model_name"], "LayoutModel");
    assert_eq!(targets[1].1["_model_name"], "ButtonStyleModel");
    let (button_id, state) = &targets[2];
    assert_eq!(button_id, button.model_id());
    assert_eq!(state["_model_name"], "ButtonModel");
    assert_eq!(state["_model_module"], "@jupyter-widgets/controls");
    assert_eq!(state["_model_module_version"], "2.0.0");
    assert_eq!(state["_view_name"], "ButtonView");
    assert_eq!(state["description"], "Click me");
    assert_eq!(state["layout"], format!("IPY_MODEL_{}", targets[0].0));
    assert_eq!(state["style"], format!("IPY_MODEL_{}", targets[1].0));
}

#[test]
fn a_click_runs_the_closure_which_updates_the_html_before_done() {
    let mut kernel = FakeKernel::start("click");
    let button = Button::new("Click me");
    let status = Html::new("<b>not clicked yet</b>");
    let clicks = Arc::new(AtomicUsize::new(0));
    let (shown, counter) = (status.clone(), Arc::clone(&clicks));
    button.on_click(move |_| {
        let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
        shown.set_value(format!("<b>clicked {n} times</b>"));
    });
    kernel.drain();

    for expected in 1..=2 {
        let published = kernel.frontend_sends(
            button.model_id(),
            json!({"method": "custom", "content": {"event": "click"}}),
        );
        assert_eq!(published.len(), 1, "one update per click: {published:?}");
        let (comm_id, data) = comm_msg_data(&published[0]);
        assert_eq!(comm_id, status.model_id());
        assert_eq!(
            data,
            &json!({"method": "update", "state": {"value": format!("<b>clicked {expected} times</b>")}, "buffer_paths": []})
        );
    }
    assert_eq!(status.value(), "<b>clicked 2 times</b>");
}

#[test]
fn a_frontend_update_changes_the_rust_side_and_is_echoed() {
    let mut kernel = FakeKernel::start("echo");
    let status = Html::new("old");
    kernel.drain();
    let published = kernel.frontend_sends(
        status.model_id(),
        json!({"method": "update", "state": {"value": "new", "not_an_attribute": 1}, "buffer_paths": []}),
    );
    assert_eq!(status.value(), "new");
    let (_, data) = comm_msg_data(&published[0]);
    assert_eq!(
        data,
        &json!({"method": "echo_update", "state": {"value": "new"}, "buffer_paths": []})
    );
}

#[test]
fn a_panicking_callback_is_reported_on_stderr_and_the_next_click_still_works() {
    let mut kernel = FakeKernel::start("panic");
    let button = Button::new("Boom");
    let clicks = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&clicks);
    button.on_click(move |_| {
        if counter.fetch_add(1, Ordering::SeqCst) == 0 {
            panic!("first click fails");
        }
    });
    kernel.drain();
    let click = json!({"method": "custom", "content": {"event": "click"}});
    let published = kernel.frontend_sends(button.model_id(), click.clone());
    match &published[..] {
        [BridgeMessage::Stream { name, text, .. }] => {
            assert_eq!(*name, StreamName::Stderr);
            assert!(text.contains("first click fails"), "{text}");
        }
        other => panic!("expected one stderr stream, got {other:?}"),
    }
    kernel.frontend_sends(button.model_id(), click);
    assert_eq!(clicks.load(Ordering::SeqCst), 2);
}

#[test]
fn request_states_on_the_control_comm_returns_every_widget() {
    let mut kernel = FakeKernel::start("states");
    let button = Button::new("A");
    let status = Html::new("B");
    let layout = VBox::new([button.widget(), status.widget()]);
    kernel.drain();
    let published = kernel.frontend_sends("control-comm", json!({"method": "request_states"}));
    let (comm_id, data) = comm_msg_data(&published[0]);
    assert_eq!(comm_id, "control-comm");
    assert_eq!(data["method"], "update_states");
    let states = data["states"].as_object().expect("states object");
    // Button, its layout and style; HTML, its layout and style; the box and its layout.
    assert_eq!(states.len(), 8);
    let vbox = &states[layout.model_id()];
    assert_eq!(vbox["model_name"], "VBoxModel");
    assert_eq!(
        vbox["state"]["children"],
        json!([
            format!("IPY_MODEL_{}", button.model_id()),
            format!("IPY_MODEL_{}", status.model_id())
        ])
    );
}

#[test]
fn without_the_kernel_widgets_render_statically_and_say_why() {
    Session::use_in_this_thread(Session::new(None));
    let button = Button::new("Save <now>");
    let status = Html::new("<i>idle</i>");
    let column = VBox::new([button.widget(), status.widget()]);
    let model: &Model = &column.widget().model;
    assert!(!model.is_live());
    let html = (model.kind().render_html)(model);
    assert!(
        html.contains("<button disabled>Save &lt;now&gt;</button>"),
        "{html}"
    );
    assert!(html.contains("<i>idle</i>"), "{html}");
    assert!(NEEDS_KERNEL.contains("flow-edge kernel"));
    assert_eq!(
        format!("{column:?}"),
        "VBox(children=[Button(description=\"Save <now>\"), HTML(value=\"<i>idle</i>\")])"
    );
}
