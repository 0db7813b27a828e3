//! Jupyter widgets (ipywidgets 8 compatible) driven from Rust closures.
//!
//! In a notebook running the flow-edge kernel:
//!
//! ```no_run
//! use flow_edge_widgets::{Button, Html, VBox};
//! use std::sync::atomic::{AtomicUsize, Ordering};
//!
//! let button = Button::new("Click me");
//! let status = Html::new("<b>not clicked yet</b>");
//! let clicks = AtomicUsize::new(0);
//! let shown = status.clone();
//! button.on_click(move |_| {
//!     let n = clicks.fetch_add(1, Ordering::SeqCst) + 1;
//!     shown.set_value(format!("<b>clicked {n} times</b>"));
//! });
//! VBox::new([button.widget(), status.widget()]) // the cell's value: shows the box
//! # ;
//! ```
//!
//! Concepts:
//! - A widget is a model (synced state, JSON) with a comm to the frontend. Handles are cheap
//!   clones of one shared model, so closures can capture them.
//! - State is data, behaviour is a callback: [`Button::on_click`], [`Select::on_change`],
//!   [`Text::on_submit`] take Rust closures, run after the current cell finished; the kernel
//!   reports idle once they returned. What the user changes in the browser (a selection,
//!   typed text) is applied to the Rust state first, so handles read it in callbacks and in
//!   later cells.
//! - The controls: [`Button`], [`Html`], [`Label`], [`Text`], [`Select`] (a listbox),
//!   [`RadioButtons`], the containers [`HBox`], [`VBox`], [`WidgetBox`] (ipywidgets' `Box`),
//!   and [`Output`], an area callbacks write text and HTML into. Every one has `.layout()`
//!   (its CSS box, [`Layout`]) and `.close()`.
//! - The widgets live in evcxr's subprocess; they reach the frontend through the kernel's
//!   bridge socket, connected on first use. The messages on it ([`wire`]) and the widget
//!   messages of the comms ([`protocol`]) are the crate `flow_edge_bridge_protocol`, which
//!   the kernel depends on too; this library knows nothing of the kernel and the kernel
//!   nothing of these controls.
//! - Callbacks must not print to stdout; use [`print_to_frontend`] or an [`Output`].
//! - evcxr links `:dep` crates into every cell separately, so each cell that creates widgets
//!   has its own copy of this library and its own bridge connection. The kernel routes the
//!   browser's messages for a widget to the connection that created it, so widgets of every
//!   cell stay live; a widget handle is usable from later cells too (it carries its model).
//! - Outside the flow-edge kernel a widget renders as static HTML (a listbox as a list of
//!   its options, ...) and says that interaction needs the flow-edge kernel.
//!
//! Adding a control is one file in `controls/`: a `static Kind` with its model and view
//! names, its table of attributes with the values ipywidgets 8 starts them with
//! (`get_state()` of the Python widget; the unit tests compare against captured states in
//! `testdata/`; a new attribute's name goes into `attribute.rs`, once), typed accessors over
//! the model's `get`/`set`, and event hooks through `Model::on_custom` (events such as a
//! click) or `Model::on_frontend_change` (attributes the user changed).
//! `widget::create_dom_widget` opens its layout and style first; the comm,
//! `update`/`echo_update`, `request_state(s)`, `close` and static rendering come from
//! `model.rs`, `session.rs` and `display.rs` unchanged.

mod attribute;
mod controls;
mod display;
mod model;
mod output;
mod session;
mod widget;

/// The Jupyter widget messaging protocol 2.1.0 (comm targets, message data), shared with the
/// kernel.
pub use flow_edge_bridge_protocol::widget_protocol as protocol;
/// The bridge's line format (`BRIDGE_ENV`, `BridgeMessage`), shared with the kernel; re-exported
/// so code that asks whether it runs under the flow-edge kernel needs no other crate.
pub use flow_edge_bridge_protocol::wire;

pub use controls::boxes::{HBox, VBox, WidgetBox};
pub use controls::button::{Button, ButtonStyle};
pub use controls::html::Html;
pub use controls::label::Label;
pub use controls::layout::Layout;
pub use controls::output_area::Output;
pub use controls::radio_buttons::RadioButtons;
pub use controls::select::Select;
pub use controls::selection::SelectionError;
pub use controls::text::Text;
pub use output::{eprint_to_frontend, print_to_frontend};
pub use widget::Widget;

#[cfg(test)]
mod controls_tests;
#[cfg(test)]
mod fake_kernel;
#[cfg(test)]
mod fake_kernel_tests;
