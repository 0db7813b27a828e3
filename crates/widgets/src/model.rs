//! The one widget model behind every control: synced state as JSON, event hooks, the comm.
//!
//! A control (`Button`, `Html`, ...) is a [`Kind`] (its model and view names and its table of
//! attributes) plus a thin typed API over [`Model`]. Opening the comm, `update`/`echo_update`,
//! `request_state` and custom events are handled here once for all controls.

use crate::attribute::{self, Attribute, Field};
use crate::protocol::{
    self, FrontendRequest, BASE_MODULE, CONTROLS_MODULE, MODULE_VERSION, OUTPUT_MODULE,
    OUTPUT_MODULE_VERSION,
};
use crate::session::Session;
use crate::wire::StreamName;
use serde_json::{Map, Value};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Which npm module implements a model or view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Module {
    Controls,
    Base,
    Output,
}

impl Module {
    fn name(self) -> &'static str {
        match self {
            Module::Controls => CONTROLS_MODULE,
            Module::Base => BASE_MODULE,
            Module::Output => OUTPUT_MODULE,
        }
    }

    fn version(self) -> &'static str {
        match self {
            Module::Controls | Module::Base => MODULE_VERSION,
            Module::Output => OUTPUT_MODULE_VERSION,
        }
    }
}

/// What kind of widget a model is: the names the frontend needs to build it, its attributes,
/// and how it renders without a frontend.
pub(crate) struct Kind {
    /// Name used in text representations, e.g. `Button`.
    pub(crate) name: &'static str,
    pub(crate) model_name: &'static str,
    pub(crate) model_module: Module,
    pub(crate) view_name: &'static str,
    pub(crate) view_module: Module,
    /// The model's attributes besides its identity, in groups (those every DOM widget has,
    /// those of every string control, ...), with the values ipywidgets 8 starts them with.
    pub(crate) fields: &'static [&'static [Field]],
    /// The style model a widget of this kind owns, if any (see `widget::create_dom_widget`).
    pub(crate) style: Option<&'static Kind>,
    /// Static HTML for frontends without this kernel (plain evcxr, a notebook on disk).
    pub(crate) render_html: fn(&Model) -> String,
    /// One-line text summary.
    pub(crate) render_text: fn(&Model) -> String,
}

/// A hook run when the frontend sends a custom event (for example a button click).
pub(crate) type CustomHandler = Arc<dyn Fn(&Arc<Model>, &Value) + Send + Sync>;

/// A hook run after the frontend changed synced attributes; gets the attributes it changed.
pub(crate) type ChangeHandler = Arc<dyn Fn(&Arc<Model>, &[Attribute]) + Send + Sync>;

impl Kind {
    /// True when `attribute` is in the table of a model of this kind (its identity is not:
    /// nothing changes it).
    pub(crate) fn has(&self, attribute: Attribute) -> bool {
        self.fields
            .iter()
            .flat_map(|group| group.iter())
            .any(|Field(field, _)| *field == attribute)
    }
}

/// A model's state, read by attribute (what [`Model::modify`] edits from).
pub(crate) struct State<'a>(&'a Map<String, Value>);

impl State<'_> {
    pub(crate) fn get(&self, attribute: Attribute) -> Option<&Value> {
        self.0.get(attribute.name())
    }
}

/// Changes to a model's attributes, made from Rust.
pub(crate) type Changes = Vec<(Attribute, Value)>;

/// The models a DOM widget owns: its `LayoutModel` and, for some controls, a style model.
/// They live and die with the widget.
#[derive(Default)]
pub(crate) struct Satellites {
    pub(crate) layout: Option<Arc<Model>>,
    pub(crate) style: Option<Arc<Model>>,
}

/// A widget model: id, synced state and event hooks, shared by every handle to the widget.
pub(crate) struct Model {
    id: String,
    kind: &'static Kind,
    state: Mutex<Map<String, Value>>,
    custom_handlers: Mutex<Vec<CustomHandler>>,
    change_handlers: Mutex<Vec<ChangeHandler>>,
    satellites: Satellites,
    session: Arc<Session>,
    /// True while the frontend has this model's comm: set once the kernel published the
    /// `comm_open`, cleared when either side closes it.
    opened: AtomicBool,
    /// True once closed from Rust or by the frontend; a closed model never reopens.
    closed: AtomicBool,
}

/// Locks a mutex even if a panicking callback poisoned it: the data is plain JSON state that
/// stays consistent between statements.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Model {
    /// Creates a model with its kind's attributes, their initial values replaced by
    /// `initial`, registers it and opens its comm when a kernel bridge is available.
    pub(crate) fn create(kind: &'static Kind, initial: Changes) -> Arc<Model> {
        Model::create_owning(kind, initial, Satellites::default())
    }

    /// Like [`Model::create`] for a widget that owns `satellites`, already created (and
    /// opened) so that the frontend can resolve the references in `initial`.
    pub(crate) fn create_owning(
        kind: &'static Kind,
        initial: Changes,
        satellites: Satellites,
    ) -> Arc<Model> {
        let session = Session::current();
        let mut state = identity(kind);
        for Field(attribute, start) in kind.fields.iter().flat_map(|group| group.iter()) {
            state.insert(attribute.name().to_owned(), start.value());
        }
        state.extend(by_name(kind, initial));
        let model = Arc::new(Model {
            id: session.new_model_id(),
            kind,
            state: Mutex::new(state),
            custom_handlers: Mutex::new(Vec::new()),
            change_handlers: Mutex::new(Vec::new()),
            satellites,
            session: Arc::clone(&session),
            opened: AtomicBool::new(false),
            closed: AtomicBool::new(false),
        });
        session.register(Arc::clone(&model));
        model.open();
        model
    }

    fn open(&self) {
        let state = self.state();
        let sent = self.session.comm_open(
            &self.id,
            protocol::WIDGET_TARGET,
            protocol::open_data(&state),
            protocol::open_metadata(),
        );
        self.opened.store(sent, Ordering::SeqCst);
    }

    pub(crate) fn id(&self) -> &str {
        &self.id
    }

    pub(crate) fn kind(&self) -> &'static Kind {
        self.kind
    }

    pub(crate) fn session(&self) -> &Arc<Session> {
        &self.session
    }

    /// The widget's `LayoutModel`; `None` only for layout and style models themselves.
    pub(crate) fn layout(&self) -> Option<&Arc<Model>> {
        self.satellites.layout.as_ref()
    }

    /// True once the widget was closed, from Rust or by the frontend.
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// Closes the comm (the frontend removes every view), forgets the model and closes the
    /// satellites it owns. Closing twice does nothing; models it merely references (a
    /// box's children) stay open, as in ipywidgets.
    pub(crate) fn close(&self) {
        if self.closed.swap(true, Ordering::SeqCst) {
            return;
        }
        self.session.unregister(&self.id);
        if self.opened.swap(false, Ordering::SeqCst) {
            self.session.comm_close(&self.id);
        }
        for satellite in [&self.satellites.layout, &self.satellites.style]
            .into_iter()
            .flatten()
        {
            satellite.close();
        }
    }

    /// Records that the frontend closed the comm: later changes stay on the Rust side.
    pub(crate) fn closed_by_frontend(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.opened.store(false, Ordering::SeqCst);
    }

    /// True when a frontend can show this widget live.
    pub(crate) fn is_live(&self) -> bool {
        self.opened.load(Ordering::SeqCst) && self.session.is_connected()
    }

    /// A copy of the full synced state, as the frontend gets it.
    pub(crate) fn state(&self) -> Map<String, Value> {
        lock(&self.state).clone()
    }

    pub(crate) fn get(&self, attribute: Attribute) -> Value {
        lock(&self.state)
            .get(attribute.name())
            .cloned()
            .unwrap_or(Value::Null)
    }

    pub(crate) fn get_str(&self, attribute: Attribute) -> String {
        self.get(attribute).as_str().unwrap_or_default().to_owned()
    }

    /// Changes one synced attribute from Rust and tells the frontend.
    pub(crate) fn set(&self, attribute: Attribute, value: Value) {
        self.set_many(vec![(attribute, value)]);
    }

    /// Changes several attributes at once; the frontend gets them in one `update`, so it
    /// never sees a half-changed widget (options without the matching index).
    pub(crate) fn set_many(&self, changes: Changes) {
        self.modify(|_| changes);
    }

    /// Computes changes from the current state and applies them under one lock, so that
    /// concurrent edits (two callbacks appending to one output) cannot lose each other.
    pub(crate) fn modify(&self, edit: impl FnOnce(&State) -> Changes) {
        let changes = {
            let mut state = lock(&self.state);
            let changes = by_name(self.kind, edit(&State(&state)));
            state.extend(changes.clone());
            changes
        };
        self.publish(changes);
    }

    fn publish(&self, changes: Map<String, Value>) {
        if !changes.is_empty() && self.opened.load(Ordering::SeqCst) {
            self.session
                .comm_msg(&self.id, protocol::update_data(&changes));
        }
    }

    pub(crate) fn on_custom(&self, handler: CustomHandler) {
        lock(&self.custom_handlers).push(handler);
    }

    /// Runs `callback` on every custom message `{"event": event}` of the frontend (a button's
    /// `click`, a text box's `submit`).
    pub(crate) fn on_event(
        &self,
        event: &'static str,
        callback: impl Fn(&Arc<Model>) + Send + Sync + 'static,
    ) {
        self.on_custom(Arc::new(move |model, content| {
            if content.get("event").and_then(Value::as_str) == Some(event) {
                callback(model);
            }
        }));
    }

    /// Adds a hook run after every frontend `update` that changed at least one attribute.
    pub(crate) fn on_frontend_change(&self, handler: ChangeHandler) {
        lock(&self.change_handlers).push(handler);
    }

    /// Handles one request of the frontend for this model.
    pub(crate) fn handle_frontend(self: &Arc<Model>, request: FrontendRequest) {
        match request {
            FrontendRequest::Update(changes) => {
                let applied = attribute::changed(&self.apply_frontend_update(changes));
                if !applied.is_empty() {
                    let handlers: Vec<ChangeHandler> = lock(&self.change_handlers).clone();
                    self.run_hooks(handlers.iter().map(|handler| {
                        let applied = &applied;
                        move |model: &Arc<Model>| handler(model, applied)
                    }));
                }
            }
            FrontendRequest::RequestState => {
                let state = self.state();
                self.session
                    .comm_msg(&self.id, protocol::update_data(&state));
            }
            FrontendRequest::Custom(content) => {
                let handlers: Vec<CustomHandler> = lock(&self.custom_handlers).clone();
                self.run_hooks(handlers.iter().map(|handler| {
                    let content = &content;
                    move |model: &Arc<Model>| handler(model, content)
                }));
            }
            FrontendRequest::RequestStates => self.session.stream(
                StreamName::Stderr,
                &format!(
                    "widget {}: request_states belongs on the control comm\n",
                    self.id
                ),
            ),
            FrontendRequest::Unknown(method) => self.session.stream(
                StreamName::Stderr,
                &format!("widget {}: unknown method {method:?} ignored\n", self.id),
            ),
        }
    }

    /// Applies the attributes the frontend changed and echoes them back, as ipywidgets 8 does,
    /// so other views of the same model converge. Returns what was applied: attributes the
    /// model does not have are ignored.
    fn apply_frontend_update(&self, changes: Map<String, Value>) -> Map<String, Value> {
        let mut applied = Map::new();
        {
            let mut state = lock(&self.state);
            for (key, value) in changes {
                if state.contains_key(&key) {
                    state.insert(key.clone(), value.clone());
                    applied.insert(key, value);
                }
            }
        }
        if !applied.is_empty() && self.opened.load(Ordering::SeqCst) {
            self.session
                .comm_msg(&self.id, protocol::echo_update_data(&applied));
        }
        applied
    }

    /// Runs event hooks one by one; a panicking hook is reported to the frontend and does
    /// not stop the others or the bridge.
    fn run_hooks<Hook: FnOnce(&Arc<Model>)>(self: &Arc<Model>, hooks: impl Iterator<Item = Hook>) {
        for hook in hooks {
            let outcome = catch_unwind(AssertUnwindSafe(|| hook(self)));
            if let Err(payload) = outcome {
                let reason = payload
                    .downcast_ref::<&str>()
                    .map(|text| (*text).to_owned())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| String::from("(no message)"));
                self.session.stream(
                    StreamName::Stderr,
                    &format!(
                        "{} {} callback panicked: {reason}\n",
                        self.kind.name, self.id
                    ),
                );
            }
        }
    }
}

/// The attributes ipywidgets 8 sends for every model: model and view identity. They are not
/// in a kind's table of fields, since nothing changes them.
fn identity(kind: &Kind) -> Map<String, Value> {
    [
        (Attribute::ModelModule, kind.model_module.name().into()),
        (
            Attribute::ModelModuleVersion,
            kind.model_module.version().into(),
        ),
        (Attribute::ModelName, kind.model_name.into()),
        (Attribute::ViewCount, Value::Null),
        (Attribute::ViewModule, kind.view_module.name().into()),
        (
            Attribute::ViewModuleVersion,
            kind.view_module.version().into(),
        ),
        (Attribute::ViewName, kind.view_name.into()),
    ]
    .into_iter()
    .map(|(attribute, value)| (attribute.name().to_owned(), value))
    .collect()
}

/// `changes` keyed by attribute name, as the model's state and the frontend hold them. A
/// model of `kind` must have every attribute changed (its table lists them): a change to
/// another would be a key the frontend ignores.
fn by_name(kind: &Kind, changes: Changes) -> Map<String, Value> {
    changes
        .into_iter()
        .map(|(attribute, value)| {
            debug_assert!(
                kind.has(attribute),
                "{} has no attribute {}",
                kind.name,
                attribute.name()
            );
            (attribute.name().to_owned(), value)
        })
        .collect()
}

/// Escapes text for HTML element content and attribute values.
pub(crate) fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}
