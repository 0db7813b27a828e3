//! The investigation panel: the original notebook's `displaythis()`, in Rust widgets.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use flow_edge::Day;
//! let day = Day::from_notebook_dir(std::env::current_dir()?)?;
//! day.panel()? // the cell's value: shows the panel
//! # ; Ok(()) }
//! ```
//!
//! Four listboxes (*Source IP*, *Dest IP*, *Src Port*, *Dst Port*) offer the listbox values
//! of the day with network-context names beside addresses; beside them a *Quick IP scoring*
//! box, the *Rating* (1 high, 2 medium, 3 low), *Score*, *Save* and *Undo*. Under them: a
//! status line, a live preview of what the selection would score, and what has been scored.
//!
//! * When it opens, and again before *Save* sorts, the panel gives the rows its rules match
//!   their severity, as the original's `displaythis()` did with `set_rules()` (see
//!   [`PanelOptions::rules`]; unscored rows only, not fed back), and says in one line above
//!   the listboxes what they did.
//! * *Score* rates the rows matching the quick IP (when typed) or the listbox choices, shows
//!   `N matching connections scored` or why nothing was, and refreshes the listboxes, so
//!   values whose rows are all scored disappear.
//! * *Save* sorts the day (unscored first, most suspicious on top), refreshes the lists and
//!   sends the feedback to the ML node (`/etc/duxbay.conf`, or the file named by
//!   `FLOW_EDGE_SPOT_CONF`) on a thread of its own: the panel shows that it is uploading and
//!   stays usable, a second Save is refused until the upload ends, and its outcome replaces
//!   the status when it does (within the upload's deadline, 120 s by default). An upload
//!   failure is shown and changes no local file.
//! * *Undo* puts back the last scoring made from this panel (severities and feedback rows),
//!   through the same crash-safe path, as long as nothing else changed the day since.
//!
//! The preview answers from an in-memory index of the day (four interned fields, the
//! severity and the file offset per row), built once and refreshed after each write, so it
//! keeps up with every change of the listboxes even on a million rows.
//!
//! # The index after the panel
//!
//! The panel is usable (listboxes filled, *Score* enabled) as soon as the rules have run and
//! the listboxes are filled; the index, the longest part of opening a large day, is built
//! after, on a thread of its own that does not hold the panel. Meanwhile the status line says
//! `Indexing the day for previews… (Score works meanwhile.)`, the preview says it comes after
//! indexing and shows itself when the index is ready, and the counts of what was scored wait
//! for it too. *Score* pressed meanwhile waits for the index (at most 10 s, the status saying
//! so), then scores in place; past that it scores by reading the day, as the engine does.
//! Either way the result is exact: the in-place path checks under the day's write lock that
//! the file is the version indexed, and reading the day is the engine's own scoring. Waiting
//! is preferred even though a scoring that reads a million rows (0.3 to 0.5 s) is quicker
//! than a whole index build (1 to 2 s): an analyst takes longer than the rest of the build to
//! pick values and a rating, the scoring after the wait is in place (tens of ms), and a
//! scoring made without the index leaves the index being built out of date, so the previews
//! would wait for a second build.
//!
//! Outside the flow-edge kernel (the evcxr REPL, plain evcxr_jupyter) there are no live
//! widgets: the panel prints the listbox values and how to score from code, and its methods
//! ([`Panel::score`], [`Panel::save`], [`Panel::undo`], [`Panel::preview`]) do what the
//! buttons do; [`Panel::save`] waits for its upload (at most the deadline), and
//! [`Panel::save_in_background`] is the button's way.
//!
//! Compared with the original: rules leave the rows an analyst scored alone (the original
//! overwrote them), Save applies them before it sorts (the original after, so its rule rows
//! moved to the end only at the next Save), and the panel is refreshed in place instead of
//! being closed and displayed again.

mod index;
mod indexing;
mod investigation;
mod rules;
mod saving;
mod table;
mod text;
mod view;

pub use crate::day::undo::UndoError;
pub use index::Preview;
pub use investigation::{
    describe, LoggedScoring, SaveOutcome, UploadSettings, UploadStep, SPOT_CONF_ENV,
};
pub use rules::{RuleTally, RulesStatus};
pub use saving::{SaveRefused, UploadStatus};

use crate::analysis::context::{ContextError, NetworkContext};
use crate::analysis::rules::RuleSet;
use crate::day::selection::Selection;
use crate::day::{Day, ListboxValues, ScoreReport};
use crate::error::Error;
use indexing::{IndexSignal, INDEX_WAIT};
use investigation::Investigation;
use rules::PanelRules;
use saving::Uploads;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// How the panel is set up.
#[derive(Debug, Clone)]
pub struct PanelOptions {
    /// Where *Save* sends the feedback, and how long an upload may take
    /// (`upload.scp.deadline`).
    pub upload: UploadSettings,
    /// Rows shown by the live preview.
    pub preview_rows: usize,
    /// Scored rows shown under the panel.
    pub scored_rows: usize,
    /// Whether to build live widgets: by default, when the flow-edge kernel's widget bridge
    /// is there (`FLOW_EDGE_BRIDGE` set).
    pub interactive: bool,
    /// The rules given to the unscored rows they match when the panel opens and before each
    /// Save (the original's `set_rules()`, which its `displaythis()` ran): by default
    /// [`RuleSet::original`]; the notebook's rules cell sets its own.
    pub rules: RuleSet,
    /// Whether the panel applies [`PanelOptions::rules`] (on by default, as in the original).
    pub rules_on_open: bool,
}

impl Default for PanelOptions {
    fn default() -> PanelOptions {
        PanelOptions {
            upload: UploadSettings::from_env(),
            preview_rows: 5,
            scored_rows: 10,
            interactive: std::env::var_os(flow_edge_widgets::wire::BRIDGE_ENV).is_some(),
            rules: RuleSet::original(),
            rules_on_open: true,
        }
    }
}

/// Why the panel could not be opened.
#[derive(Debug)]
pub enum PanelError {
    /// The day's files could not be read.
    Day(Error),
    /// The network context file (`nwloc`) exists but cannot be read (a malformed line is
    /// only a warning, shown above the listboxes).
    Context(ContextError),
}

impl fmt::Display for PanelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PanelError::Day(error) => write!(f, "{error}"),
            PanelError::Context(error) => write!(f, "{error}"),
        }
    }
}

impl std::error::Error for PanelError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PanelError::Day(error) => Some(error),
            PanelError::Context(error) => Some(error),
        }
    }
}

impl From<Error> for PanelError {
    fn from(error: Error) -> PanelError {
        PanelError::Day(error)
    }
}

/// The shared state every callback locks.
type Shared = Arc<Mutex<Investigation>>;

/// Locks the state even if a callback panicked while holding it: the state is replaced
/// whole by each operation, never left half-updated.
fn lock(state: &Shared) -> MutexGuard<'_, Investigation> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What *Undo* did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UndoReport {
    /// Rows given back their previous severity (their feedback rows were removed).
    pub rows: u64,
}

/// The investigation panel of one day.
pub struct Panel {
    state: Shared,
    uploads: Arc<Uploads>,
    view: Option<view::PanelView>,
    options: PanelOptions,
    /// Whether the background build of the index has ended.
    indexing: Arc<IndexSignal>,
    /// How long *Score* and the preview wait for that build.
    index_wait: Duration,
}

impl Day {
    /// The investigation panel (the original's `displaythis()`), with default options.
    pub fn panel(&self) -> Result<Panel, PanelError> {
        self.panel_with(PanelOptions::default())
    }

    /// The investigation panel with explicit options.
    ///
    /// Returns once the rules have run and the listboxes are filled; with live widgets the
    /// preview index is then built in the background ([`Panel::wait_for_index`]).
    pub fn panel_with(&self, options: PanelOptions) -> Result<Panel, PanelError> {
        self.open_panel(options, || {})
    }

    /// [`Day::panel_with`], with `hold` run by the index thread between building the index
    /// and putting it in place (tests hold the index back with it).
    pub(crate) fn open_panel(
        &self,
        options: PanelOptions,
        hold: impl FnOnce() + Send + 'static,
    ) -> Result<Panel, PanelError> {
        let context = NetworkContext::for_day(self).map_err(PanelError::Context)?;
        let rules = PanelRules::new(options.rules.clone(), options.rules_on_open);
        let mut investigation =
            Investigation::open(self.clone(), context, rules, options.upload.clone())?;
        // Without live widgets the index is built on first use: code waits for it anyway.
        investigation.set_index_pending(options.interactive);
        let state: Shared = Arc::new(Mutex::new(investigation));
        let indexing = IndexSignal::new(!options.interactive);
        let uploads = Uploads::new();
        let view = options.interactive.then(|| {
            let view = view::PanelView::build(&state, &uploads, &indexing, &options);
            let shown = view.clone();
            let ready = Arc::clone(&state);
            indexing::start(&state, &indexing, hold, move || shown.index_ready(&ready));
            view
        });
        Ok(Panel {
            state,
            uploads,
            view,
            options,
            indexing,
            index_wait: INDEX_WAIT,
        })
    }
}

impl Panel {
    /// True when the panel has live widgets (under the flow-edge kernel).
    pub fn is_interactive(&self) -> bool {
        self.view.is_some()
    }

    /// Waits up to `timeout` for the preview index the panel builds in the background when
    /// it shows live widgets; true once that build has ended (at once without live widgets,
    /// whose index is built on first use).
    pub fn wait_for_index(&self, timeout: Duration) -> bool {
        self.indexing.wait(timeout)
    }

    /// The status line's text (tests).
    #[cfg(test)]
    pub(crate) fn status_text(&self) -> String {
        self.view
            .as_ref()
            .map(view::PanelView::status_text)
            .unwrap_or_default()
    }

    /// What the panel's rules did since it opened (the line above the listboxes).
    pub fn rules(&self) -> RulesStatus {
        lock(&self.state).rules().clone()
    }

    /// The listbox values the panel offers now.
    pub fn lists(&self) -> ListboxValues {
        lock(&self.state).lists().clone()
    }

    /// What scoring `selection` would rate: the count and the first rows.
    /// Waits for the background index first (at most 10 s, then builds one).
    pub fn preview(&self, selection: &Selection) -> Result<Preview, Error> {
        self.indexing.wait(self.index_wait);
        lock(&self.state).preview(selection, self.options.preview_rows)
    }

    /// Scores like the *Score* button: waits for the background index first (at most 10 s,
    /// then scores by reading the day; see [`indexing`](self#the-index-after-the-panel)).
    pub fn score(&self, selection: &Selection, rating: u8) -> Result<ScoreReport, Error> {
        self.indexing.wait(self.index_wait);
        let report = lock(&self.state).score(selection, rating);
        if let Some(view) = &self.view {
            view.refresh(&self.state);
        }
        report
    }

    /// Saves, sorts and uploads like the *Save* button, but waits for the upload (at most
    /// its deadline). The panel is not held meanwhile.
    pub fn save(&self) -> SaveOutcome {
        let outcome = saving::save_and_wait(&self.state);
        if let Some(view) = &self.view {
            view.refresh(&self.state);
        }
        outcome
    }

    /// Does what the *Save* button does: saves and sorts, then sends the feedback on a thread
    /// of its own and returns (the outcome's upload is [`UploadStep::Started`]; a
    /// configuration problem is reported at once). Refused while an upload started so is
    /// still running.
    pub fn save_in_background(&self) -> Result<SaveOutcome, SaveRefused> {
        match &self.view {
            Some(view) => view.start_save(&self.state, &self.uploads),
            None => Ok(saving::begin(&self.state, &self.uploads)?.start(|_| {})),
        }
    }

    /// Where the upload started by *Save* (the button, [`Panel::save_in_background`]) stands.
    pub fn upload_status(&self) -> UploadStatus {
        self.uploads.status()
    }

    /// Waits up to `timeout` for a running upload to end; says where it stands then.
    pub fn wait_for_upload(&self, timeout: Duration) -> UploadStatus {
        self.uploads.wait(timeout)
    }

    /// Undoes the last scoring made from this panel, like the *Undo* button.
    pub fn undo(&self) -> Result<UndoReport, UndoError> {
        let restored = lock(&self.state).undo().map(|rows| UndoReport { rows });
        if let Some(view) = &self.view {
            view.refresh(&self.state);
        }
        restored
    }

    /// The scorings made from this panel, oldest first.
    pub fn log(&self) -> Vec<LoggedScoring> {
        lock(&self.state).log().to_vec()
    }

    /// Shows the panel: live widgets under the flow-edge kernel, else the listbox values as
    /// a table with a note on scoring from code.
    pub fn evcxr_display(&self) {
        match &self.view {
            Some(view) => view.evcxr_display(),
            None => {
                let state = lock(&self.state);
                text::emit(state.lists(), state.context(), state.rules());
            }
        }
    }
}

/// The panel as text, as the evcxr REPL shows it: the network context's note and skipped
/// lines, what the rules did, the listbox values with names, and how to score from code.
impl fmt::Display for Panel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.state);
        f.write_str(&text::plain(state.lists(), state.context(), state.rules()))
    }
}

impl fmt::Debug for Panel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.state);
        f.debug_struct("Panel")
            .field("day", &state.day().paths().dir)
            .field("interactive", &self.view.is_some())
            .finish()
    }
}
