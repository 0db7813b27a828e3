//! The controls added for the investigation panel (Select, Text, RadioButtons, Label, boxes,
//! Layout, Output), against the pure-Rust fake kernel.

use crate::display::NEEDS_KERNEL;
use crate::fake_kernel::{comm_msg_data, FakeKernel};
use crate::session::Session;
use crate::wire::BridgeMessage;
use crate::{
    Button, HBox, Html, Label, Output, RadioButtons, Select, SelectionError, Text, VBox, WidgetBox,
};
use serde_json::{json, Map, Value};
use std::sync::{Arc, Mutex};

/// `get_state()` of ipywidgets 8.1.9 widgets (and their style models), captured with the
/// Python package: what the reference kernel opens each comm with.
const IPYWIDGETS_STATES: &str = include_str!("../testdata/ipywidgets-8.1.9-states.json");

fn ipywidgets_state(widget: &str, part: &str) -> Value {
    let states: Value = serde_json::from_str(IPYWIDGETS_STATES).expect("fixture is JSON");
    states["widgets"][widget][part].clone()
}

/// (comm id, state) of every comm the library opened, in order.
fn opened(messages: &[BridgeMessage]) -> Vec<(String, Map<String, Value>)> {
    messages
        .iter()
        .filter_map(|message| match message {
            BridgeMessage::CommOpen { comm_id, data, .. } => Some((
                comm_id.clone(),
                data["state"].as_object().cloned().unwrap_or_default(),
            )),
            _ => None,
        })
        .collect()
}

/// The widget's opening state with its layout and style references replaced by the
/// fixture's placeholders, and the state of the style model it references.
fn comparable_state(
    comms: &[(String, Map<String, Value>)],
    model_id: &str,
) -> (Value, Option<Value>) {
    let (_, state) = comms
        .iter()
        .find(|(id, _)| id == model_id)
        .expect("the widget's comm was opened");
    let mut state = state.clone();
    let mut style_state = None;
    for satellite in ["layout", "style"] {
        let Some(reference) = state.get(satellite).and_then(Value::as_str) else {
            continue;
        };
        let id = reference.trim_start_matches("IPY_MODEL_");
        let position = comms.iter().position(|(comm_id, _)| comm_id == id);
        let own = comms.iter().position(|(comm_id, _)| comm_id == model_id);
        assert!(position < own, "{satellite} opens before the widget");
        if satellite == "style" {
            style_state = position.map(|at| Value::Object(comms[at].1.clone()));
        }
        state.insert(satellite.into(), json!(format!("IPY_MODEL_<{satellite}>")));
    }
    (Value::Object(state), style_state)
}

fn updates_of<'a>(published: &'a [BridgeMessage], comm: &str) -> Vec<&'a Value> {
    published
        .iter()
        .filter_map(|message| match message {
            BridgeMessage::CommMsg { comm_id, data, .. } if comm_id == comm => Some(data),
            _ => None,
        })
        .collect()
}

fn update(state: Value) -> Value {
    json!({"method": "update", "state": state, "buffer_paths": []})
}

fn echo(state: Value) -> Value {
    json!({"method": "echo_update", "state": state, "buffer_paths": []})
}

#[test]
fn every_new_widget_opens_with_the_state_ipywidgets_sends() {
    let kernel = FakeKernel::start("ipywidgets-states");
    let select = Select::new(["a", "b"]);
    let text = Text::new("hi");
    let radio = RadioButtons::new(["1", "2", "3"]);
    let label = Label::new("lab");
    let plain_box = WidgetBox::new([]);
    let hbox = HBox::new([]);
    let vbox = VBox::new([]);
    let output = Output::new();
    let comms = opened(&kernel.drain());
    let cases = [
        ("Select", select.model_id()),
        ("Text", text.model_id()),
        ("RadioButtons", radio.model_id()),
        ("Label", label.model_id()),
        ("Box", plain_box.model_id()),
        ("HBox", hbox.model_id()),
        ("VBox", vbox.model_id()),
        ("Output", output.model_id()),
    ];
    for (name, model_id) in cases {
        let (state, style) = comparable_state(&comms, model_id);
        assert_eq!(state, ipywidgets_state(name, "state"), "{name}");
        assert_eq!(
            style.unwrap_or(Value::Null),
            ipywidgets_state(name, "style"),
            "{name} style"
        );
    }
    let layout_id = select.layout().model_id().to_owned();
    let layout = &comms.iter().find(|(id, _)| *id == layout_id).unwrap().1;
    assert_eq!(
        Value::Object(layout.clone()),
        ipywidgets_state("Layout", "state")
    );
}

#[test]
fn a_selection_made_in_the_browser_is_echoed_readable_and_reported_to_on_change() {
    let mut kernel = FakeKernel::start("select-browser");
    let hosts = Select::new(["- Select -", "10.0.0.1", "10.0.0.2"]);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    let status = Html::new("");
    let shown = status.clone();
    hosts.on_change(move |select| {
        record
            .lock()
            .unwrap()
            .push((select.index(), select.value()));
        shown.set_value(format!("picked {}", select.value().unwrap_or_default()));
    });
    kernel.drain();

    let published = kernel.frontend_sends(
        hosts.model_id(),
        json!({"method": "update", "state": {"index": 2}, "buffer_paths": []}),
    );
    assert_eq!(hosts.index(), Some(2));
    assert_eq!(hosts.value().as_deref(), Some("10.0.0.2"));
    assert_eq!(
        *seen.lock().unwrap(),
        vec![(Some(2), Some("10.0.0.2".to_owned()))]
    );
    // ipywidgets' order: the echo first, then what the observer changed.
    assert_eq!(published.len(), 2, "{published:?}");
    assert_eq!(
        comm_msg_data(&published[0]),
        (hosts.model_id(), &echo(json!({"index": 2})))
    );
    assert_eq!(
        comm_msg_data(&published[1]),
        (
            status.model_id(),
            &update(json!({"value": "picked 10.0.0.2"}))
        )
    );

    // A later cell reads the same handle (a clone, as a cell would capture it).
    let later = hosts.clone();
    assert_eq!(later.value().as_deref(), Some("10.0.0.2"));
}

#[test]
fn changing_the_selection_from_rust_updates_the_browser_without_calling_on_change() {
    let kernel = FakeKernel::start("select-rust");
    let hosts = Select::new(["a", "b", "c"]);
    let calls = Arc::new(Mutex::new(0));
    let counter = Arc::clone(&calls);
    hosts.on_change(move |_| *counter.lock().unwrap() += 1);
    kernel.drain();

    hosts.set_value(Some("c"));
    hosts.set_index(Some(1));
    hosts.set_index(None);
    hosts.set_rows(8);
    hosts.set_description("Source IP");
    let published = kernel.drain();
    let sent: Vec<&Value> = updates_of(&published, hosts.model_id());
    assert_eq!(
        sent,
        [
            &update(json!({"index": 2})),
            &update(json!({"index": 1})),
            &update(json!({"index": null})),
            &update(json!({"rows": 8})),
            &update(json!({"description": "Source IP"})),
        ]
    );
    assert_eq!(hosts.value(), None);
    assert_eq!(hosts.rows(), 8);
    assert_eq!(*calls.lock().unwrap(), 0);
}

#[test]
fn an_unknown_label_or_index_is_an_error_for_try_set_and_clears_for_set() {
    let _kernel = FakeKernel::start("select-errors");
    let rating = RadioButtons::new(["1", "2", "3"]);
    assert_eq!(
        rating.try_set_value(Some("4")),
        Err(SelectionError::UnknownOption {
            label: "4".into(),
            options: 3
        })
    );
    assert_eq!(rating.value().as_deref(), Some("1"), "unchanged");
    let error = rating.try_set_index(Some(3)).unwrap_err();
    assert_eq!(
        error.to_string(),
        "index 3 is out of range: there are 3 options"
    );
    assert_eq!(rating.index(), Some(0), "unchanged");
    rating.set_value(Some("4"));
    assert_eq!(rating.index(), None);
    rating.set_index(Some(2));
    assert_eq!(rating.value().as_deref(), Some("3"));
    rating.set_index(Some(9));
    assert_eq!(rating.value(), None);
}

#[test]
fn new_options_select_the_first_one_like_ipywidgets_in_a_single_update() {
    let kernel = FakeKernel::start("select-options");
    let ports = Select::new(["- Select -", "22", "80"]);
    ports.set_value(Some("80"));
    kernel.drain();

    ports.set_options(["- Select -", "80", "443"]);
    assert_eq!(ports.options(), ["- Select -", "80", "443"]);
    assert_eq!(ports.index(), Some(0));
    let published = kernel.drain();
    assert_eq!(
        updates_of(&published, ports.model_id()),
        [&update(
            json!({"_options_labels": ["- Select -", "80", "443"], "index": 0})
        )]
    );

    ports.set_index(None);
    ports.set_options(["1", "2"]);
    assert_eq!(ports.index(), None, "no selection stays none");
    ports.set_index(Some(0));
    ports.set_options(Vec::<String>::new());
    assert_eq!(ports.index(), None, "nothing to select");
}

#[test]
fn new_options_can_keep_the_selected_label_at_its_new_position() {
    let kernel = FakeKernel::start("select-keep");
    let hosts = Select::new(["- Select -", "10.0.0.1", "10.0.0.2"]);
    hosts.set_value(Some("10.0.0.2"));
    kernel.drain();

    hosts.set_options_keeping_value(["- Select -", "10.0.0.2"]);
    assert_eq!(hosts.index(), Some(1));
    assert_eq!(hosts.value().as_deref(), Some("10.0.0.2"));
    assert_eq!(
        updates_of(&kernel.drain(), hosts.model_id()),
        [&update(
            json!({"_options_labels": ["- Select -", "10.0.0.2"], "index": 1})
        )]
    );
    hosts.set_options_keeping_value(["- Select -", "10.0.0.3"]);
    assert_eq!(hosts.value().as_deref(), Some("- Select -"), "gone: first");
}

#[test]
fn a_browser_index_that_is_not_an_option_reads_as_no_selection() {
    let mut kernel = FakeKernel::start("select-garbage");
    let hosts = Select::new(["a"]);
    kernel.drain();
    kernel.frontend_sends(
        hosts.model_id(),
        json!({"method": "update", "state": {"index": 5}, "buffer_paths": []}),
    );
    assert_eq!(hosts.index(), None);
    assert_eq!(hosts.value(), None);
}

#[test]
fn typing_then_enter_reaches_on_change_and_on_submit_with_the_typed_value() {
    let mut kernel = FakeKernel::start("text");
    let quick_ip = Text::new("");
    let log = Arc::new(Mutex::new(Vec::new()));
    let (changes, submits) = (Arc::clone(&log), Arc::clone(&log));
    quick_ip.on_change(move |text| {
        changes
            .lock()
            .unwrap()
            .push(format!("change {}", text.value()))
    });
    quick_ip.on_submit(move |text| {
        submits
            .lock()
            .unwrap()
            .push(format!("submit {}", text.value()))
    });
    kernel.drain();

    for typed in ["10.", "10.0.0.1"] {
        let published = kernel.frontend_sends(
            quick_ip.model_id(),
            json!({"method": "update", "state": {"value": typed}, "buffer_paths": []}),
        );
        assert_eq!(
            updates_of(&published, quick_ip.model_id()),
            [&echo(json!({"value": typed}))]
        );
    }
    let published = kernel.frontend_sends(
        quick_ip.model_id(),
        json!({"method": "custom", "content": {"event": "submit"}}),
    );
    assert!(
        published.is_empty(),
        "a submit is not echoed: {published:?}"
    );
    assert_eq!(quick_ip.value(), "10.0.0.1");
    assert_eq!(
        *log.lock().unwrap(),
        ["change 10.", "change 10.0.0.1", "submit 10.0.0.1"]
    );
}

#[test]
fn text_setters_update_the_browser() {
    let kernel = FakeKernel::start("text-set");
    let quick_ip = Text::new("old");
    kernel.drain();
    quick_ip.set_value("new");
    quick_ip.set_placeholder("10.0.0.1");
    quick_ip.set_description("Quick IP");
    assert_eq!(
        updates_of(&kernel.drain(), quick_ip.model_id()),
        [
            &update(json!({"value": "new"})),
            &update(json!({"placeholder": "10.0.0.1"})),
            &update(json!({"description": "Quick IP"})),
        ]
    );
    assert_eq!(quick_ip.value(), "new");
    assert_eq!(quick_ip.description(), "Quick IP");
}

#[test]
fn picking_a_radio_button_updates_the_rating_and_runs_on_change() {
    let mut kernel = FakeKernel::start("radio");
    let rating = RadioButtons::new(["1", "2", "3"]);
    rating.set_description("Rating");
    let picked = Arc::new(Mutex::new(None));
    let record = Arc::clone(&picked);
    rating.on_change(move |radio| *record.lock().unwrap() = radio.value());
    kernel.drain();
    let published = kernel.frontend_sends(
        rating.model_id(),
        json!({"method": "update", "state": {"index": 2}, "buffer_paths": []}),
    );
    assert_eq!(
        updates_of(&published, rating.model_id()),
        [&echo(json!({"index": 2}))]
    );
    assert_eq!(picked.lock().unwrap().as_deref(), Some("3"));
    assert_eq!(rating.index(), Some(2));
    assert_eq!(rating.options(), ["1", "2", "3"]);
}

#[test]
fn label_and_button_setters_update_the_browser() {
    let kernel = FakeKernel::start("label-button");
    let legend = Label::new("1 high");
    let score = Button::new("Score");
    kernel.drain();
    legend.set_value("1: high, 2: medium, 3: low");
    score.set_tooltip("Score the selected connections");
    score.set_disabled(true);
    let published = kernel.drain();
    assert_eq!(
        updates_of(&published, legend.model_id()),
        [&update(json!({"value": "1: high, 2: medium, 3: low"}))]
    );
    assert_eq!(
        updates_of(&published, score.model_id()),
        [
            &update(json!({"tooltip": "Score the selected connections"})),
            &update(json!({"disabled": true})),
        ]
    );
    assert_eq!(legend.value(), "1: high, 2: medium, 3: low");
}

#[test]
fn layout_setters_update_the_widgets_layout_model() {
    let kernel = FakeKernel::start("layout");
    let hosts = Select::new(["a"]);
    let comms = opened(&kernel.drain());
    let layout = hosts.layout();
    let (_, select_state) = comms.iter().find(|(id, _)| id == hosts.model_id()).unwrap();
    assert_eq!(
        select_state["layout"],
        format!("IPY_MODEL_{}", layout.model_id())
    );

    layout.set_width("180px");
    layout.set_height("200px");
    layout.set_margin("0 4px");
    layout.set_overflow("auto");
    layout.set_flex("1 1 auto");
    layout.set_padding("2px");
    layout.set_align_items("stretch");
    layout.set_justify_content("space-between");
    layout.set_display("flex");
    layout.set_flex_flow("row wrap");
    layout.set_border("1px solid gray");
    let published = kernel.drain();
    let sent = updates_of(&published, layout.model_id());
    assert_eq!(sent.len(), 11, "{sent:?}");
    assert_eq!(sent[0], &update(json!({"width": "180px"})));
    assert_eq!(sent[9], &update(json!({"flex_flow": "row wrap"})));
    assert_eq!(
        sent[10],
        &update(
            json!({"border_bottom": "1px solid gray", "border_left": "1px solid gray",
                       "border_right": "1px solid gray", "border_top": "1px solid gray"})
        )
    );
    assert_eq!(hosts.layout().get("height").as_deref(), Some("200px"));
    let described = format!("{:?}", hosts.widget().layout());
    assert!(described.contains("width=\"180px\""), "{described}");
}

#[test]
fn closing_a_widget_closes_its_comms_once_and_later_changes_stay_in_rust() {
    let mut kernel = FakeKernel::start("close");
    let hosts = Select::new(["a", "b"]);
    let layout_id = hosts.layout().model_id().to_owned();
    let comms = opened(&kernel.drain());
    let style_id = comms[comms.len() - 2].0.clone();

    hosts.close();
    let closed: Vec<String> = kernel
        .drain()
        .into_iter()
        .map(|message| match message {
            BridgeMessage::CommClose { comm_id, .. } => comm_id,
            other => panic!("expected comm_close, got {other:?}"),
        })
        .collect();
    assert_eq!(closed, [hosts.model_id().to_owned(), layout_id, style_id]);
    assert!(hosts.is_closed());

    hosts.close();
    hosts.set_index(Some(1));
    hosts.layout().set_width("10px");
    assert!(
        kernel.drain().is_empty(),
        "nothing more reaches the frontend"
    );
    assert_eq!(hosts.value().as_deref(), Some("b"));

    let published = kernel.frontend_sends("control", json!({"method": "request_states"}));
    let (_, data) = comm_msg_data(&published[0]);
    assert_eq!(data["states"], json!({}), "a closed widget is forgotten");
}

#[test]
fn closing_a_box_leaves_its_children_open() {
    let kernel = FakeKernel::start("close-box");
    let label = Label::new("inside");
    let row = HBox::new([label.widget()]);
    kernel.drain();
    row.close();
    let closed: Vec<String> = kernel
        .drain()
        .into_iter()
        .filter_map(|message| match message {
            BridgeMessage::CommClose { comm_id, .. } => Some(comm_id),
            _ => None,
        })
        .collect();
    assert_eq!(closed.len(), 2, "the box and its layout");
    assert_eq!(closed[0], row.model_id());
    assert!(!label.is_closed());
    label.set_value("still here");
    assert_eq!(
        updates_of(&kernel.drain(), label.model_id()),
        [&update(json!({"value": "still here"}))]
    );
}

#[test]
fn a_widget_the_frontend_closed_stops_sending() {
    let mut kernel = FakeKernel::start("frontend-close");
    let legend = Label::new("x");
    kernel.drain();
    let published = kernel.frontend_closes(legend.model_id());
    assert!(published.is_empty(), "{published:?}");
    assert!(legend.is_closed());
    legend.set_value("y");
    legend.close();
    assert!(kernel.drain().is_empty());
}

#[test]
fn a_callback_writes_stdout_stderr_and_html_into_an_output_area() {
    let mut kernel = FakeKernel::start("output");
    let log = Output::new();
    let run = Button::new("Run");
    let shown = log.clone();
    run.on_click(move |_| {
        shown.append_stdout("3 matching connections scored\n");
        shown.append_stderr("1 row skipped\n");
        shown.append_html("<b>rating</b> &amp; 1");
    });
    kernel.drain();
    let published = kernel.frontend_sends(
        run.model_id(),
        json!({"method": "custom", "content": {"event": "click"}}),
    );
    let sent = updates_of(&published, log.model_id());
    assert_eq!(sent.len(), 3, "one update per append: {sent:?}");
    assert_eq!(
        sent[2],
        &update(json!({"outputs": [
            {"output_type": "stream", "name": "stdout", "text": "3 matching connections scored\n"},
            {"output_type": "stream", "name": "stderr", "text": "1 row skipped\n"},
            {"output_type": "display_data",
             "data": {"text/html": "<b>rating</b> &amp; 1", "text/plain": "rating & 1"},
             "metadata": {}},
        ]}))
    );
    assert_eq!(
        log.text(),
        "3 matching connections scored\n1 row skipped\nrating & 1"
    );

    log.clear();
    assert_eq!(
        updates_of(&kernel.drain(), log.model_id()),
        [&update(json!({"outputs": []}))]
    );
    assert_eq!(log.text(), "");
}

#[test]
fn without_the_kernel_the_new_widgets_render_as_readable_static_html() {
    Session::use_in_this_thread(Session::new(None));
    let hosts = Select::new(["- Select -", "10.0.0.1", "<b>"]);
    hosts.set_description("Source IP");
    hosts.set_value(Some("10.0.0.1"));
    let rating = RadioButtons::new(["1", "2", "3"]);
    let quick_ip = Text::new("10.0.0.9");
    quick_ip.set_placeholder("an IP");
    let legend = Label::new("1 < 2");
    let log = Output::new();
    log.append_stdout("scored\n");
    hosts.layout().set_width("150px");
    let panel = WidgetBox::new([
        hosts.widget(),
        rating.widget(),
        quick_ip.widget(),
        legend.widget(),
        log.widget(),
    ]);
    let model = &panel.widget().model;
    assert!(!model.is_live());
    let html = (model.kind().render_html)(model);
    for expected in [
        "<label>Source IP</label> <select size=\"5\" disabled><option>- Select -</option><option selected>10.0.0.1</option><option>&lt;b&gt;</option></select>",
        "<div style=\"width:150px;\">",
        "<input type=\"radio\" disabled checked> 1</label>",
        "<input type=\"text\" value=\"10.0.0.9\" placeholder=\"an IP\" disabled>",
        "<span>1 &lt; 2</span>",
        "<pre style=\"margin:0;\">scored\n</pre>",
    ] {
        assert!(html.contains(expected), "{expected}\nnot in\n{html}");
    }
    assert_eq!(
        format!("{hosts:?}"),
        "Select(description=\"Source IP\", options=[\"- Select -\", \"10.0.0.1\", \"<b>\"], value=\"10.0.0.1\")"
    );
    assert_eq!(
        format!("{panel:?}"),
        "Box(children=[Select(description=\"Source IP\", options=[\"- Select -\", \"10.0.0.1\", \"<b>\"], value=\"10.0.0.1\"), \
         RadioButtons(description=\"\", options=[\"1\", \"2\", \"3\"], value=\"1\"), \
         Text(description=\"\", value=\"10.0.0.9\"), Label(value=\"1 < 2\"), Output(text=\"scored\\n\")])"
    );
    assert!(NEEDS_KERNEL.contains("flow-edge kernel"));
}

#[test]
fn a_panicking_on_change_is_reported_and_the_selection_still_applies() {
    let mut kernel = FakeKernel::start("select-panic");
    let hosts = Select::new(["a", "b"]);
    hosts.on_change(|_| panic!("listbox callback failed"));
    kernel.drain();
    let published = kernel.frontend_sends(
        hosts.model_id(),
        json!({"method": "update", "state": {"index": 1}, "buffer_paths": []}),
    );
    assert_eq!(hosts.value().as_deref(), Some("b"));
    match &published[..] {
        [BridgeMessage::CommMsg { .. }, BridgeMessage::Stream { name, text, .. }] => {
            assert_eq!(*name, crate::wire::StreamName::Stderr);
            assert!(text.contains("listbox callback failed"), "{text}");
        }
        other => panic!("expected the echo then one stderr stream, got {other:?}"),
    }
}

#[test]
#[cfg(debug_assertions)]
#[should_panic(expected = "Button has no attribute rows")]
fn setting_an_attribute_the_model_does_not_have_is_refused_in_debug_builds() {
    let _kernel = FakeKernel::start("foreign-attribute");
    let button = Button::new("Save");
    button
        .widget()
        .model
        .set(crate::attribute::Attribute::Rows, json!(3));
}
