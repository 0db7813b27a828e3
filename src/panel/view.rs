//! The panel's widgets: layout like the original (four listboxes side by side, then the
//! quick IP box, the rating and the buttons), and the callbacks that run the investigation.
//!
//! Callbacks never print (evcxr reads the subprocess's stdout only while a cell runs): every
//! outcome goes to the status area, and a failure there is an error message, never a panic.

use super::indexing::{IndexSignal, INDEX_WAIT};
use super::saving::{self, SaveRefused, UploadStatus, Uploads};
use super::table::compact_table;
use super::text::{context_html, labelled, preview_summary, rules_html, save_lines, undo_line};
use super::{lock, PanelOptions, SaveOutcome, Shared, UndoReport};
use crate::day::selection::Selection;
use crate::day::ListboxValues;
use crate::views::html::escape;
use flow_edge_widgets::{Button, ButtonStyle, HBox, Html, RadioButtons, Select, Text, VBox};
use std::sync::Arc;
use std::time::Duration;

/// The first option of every listbox: nothing chosen.
pub(crate) const NOTHING: &str = "- Select -";
/// Height of the four listboxes (equal, so the row lines up).
const LISTBOX_HEIGHT: &str = "230px";
/// The legend under the rating.
const LEGEND: &str = "1 high · 2 medium · 3 low";
/// The status when the panel is ready.
const READY: &str = "Pick values or type a quick IP, choose a rating, then Score.";
/// The status while the index is built in the background.
const INDEXING: &str = "Indexing the day for previews… (Score works meanwhile.)";

/// The live widgets of one panel. Clones share the widgets.
#[derive(Clone)]
pub(super) struct PanelView {
    root: VBox,
    listboxes: [Select; 4],
    quick_ip: Text,
    rating: RadioButtons,
    undo: Button,
    rules: Html,
    status: Html,
    preview: Html,
    scored: Html,
    preview_rows: usize,
    scored_rows: usize,
    /// Whether the background build of the index has ended.
    indexing: Arc<IndexSignal>,
    /// How long *Score* waits for that build.
    index_wait: Duration,
}

/// A listbox under its heading, in a column of the given width.
fn listbox_column(heading: &str, width: &str) -> (VBox, Select) {
    let title = Html::new(format!("<b>{}</b>", escape(heading)));
    let select = Select::new([NOTHING]);
    select.layout().set_width("100%");
    select.layout().set_height(LISTBOX_HEIGHT);
    select.layout().set_margin("0");
    let column = VBox::new([title.widget(), select.widget()]);
    column.layout().set_width(width);
    column.layout().set_padding("0 6px 0 0");
    (column, select)
}

fn options(values: &[String]) -> Vec<String> {
    std::iter::once(NOTHING.to_string())
        .chain(values.iter().cloned())
        .collect()
}

fn status_html(lines: &[(bool, String)]) -> String {
    let body: String = lines
        .iter()
        .map(|(ok, line)| {
            let colour = if *ok { "#1a7f37" } else { "#b42318" };
            format!("<div style=\"color:{colour}\">{}</div>", escape(line))
        })
        .collect();
    format!("<div class=\"flow-edge-status\">{body}</div>")
}

/// A hint in the status area (which always carries the `flow-edge-status` class, so tests and
/// styles find it).
fn status_hint(text: &str) -> String {
    format!("<div class=\"flow-edge-status\">{}</div>", hint_html(text))
}

/// The status while the index is built: how to start, and that previews come later.
fn indexing_hint() -> String {
    format!(
        "<div class=\"flow-edge-status\">{}{}</div>",
        hint_html(READY),
        hint_html(INDEXING)
    )
}

fn hint_html(text: &str) -> String {
    format!("<div style=\"color:#666\">{}</div>", escape(text))
}

impl PanelView {
    /// Builds the widgets and wires the callbacks to `state` and the upload slot.
    /// The index is not needed to show it: what needs the index shows once it is ready
    /// ([`PanelView::index_ready`]).
    pub fn build(
        state: &Shared,
        uploads: &Arc<Uploads>,
        indexing: &Arc<IndexSignal>,
        options: &PanelOptions,
    ) -> PanelView {
        let (src_column, src) = listbox_column("Source IP", "22%");
        let (dst_column, dst) = listbox_column("Dest IP", "22%");
        let (sport_column, sport) = listbox_column("Src Port", "12%");
        let (dport_column, dport) = listbox_column("Dst Port", "12%");

        let quick_ip = Text::new("");
        quick_ip.set_placeholder("Quick IP scoring");
        quick_ip.layout().set_width("95%");
        let rating = RadioButtons::new(["1", "2", "3"]);
        rating.set_description("Rating:");
        rating.set_horizontal(true);
        let legend = Html::new(hint_html(LEGEND));
        let score = Button::new("Score");
        let save = Button::new("Save");
        let undo = Button::new("Undo");
        for button in [&score, &save] {
            button.set_button_style(ButtonStyle::Primary);
        }
        undo.set_tooltip("Undo the last scoring made from this panel");
        undo.set_disabled(true);
        for button in [&score, &save, &undo] {
            button.layout().set_width("31%");
        }
        let buttons = HBox::new([score.widget(), save.widget(), undo.widget()]);
        buttons.layout().set_justify_content("space-between");
        let actions = VBox::new([
            Html::new("<b>Quick IP scoring</b>").widget(),
            quick_ip.widget(),
            rating.widget(),
            legend.widget(),
            buttons.widget(),
        ]);
        actions.layout().set_width("28%");
        actions.layout().set_padding("0 0 0 6px");

        let row = HBox::new([
            src_column.widget(),
            dst_column.widget(),
            sport_column.widget(),
            dport_column.widget(),
            actions.widget(),
        ]);
        row.layout().set_width("100%");
        let status = Html::new(if indexing.is_done() {
            status_hint(READY)
        } else {
            indexing_hint()
        });
        let preview = Html::new("");
        let scored = Html::new("");
        // The network context's note and skipped lines, once, above the listboxes.
        let context = Some(context_html(lock(state).context()))
            .filter(|html| !html.is_empty())
            .map(|html| Html::new(html).widget());
        // What the rules did, just above the listboxes.
        let rules = Html::new(rules_html(lock(state).rules()));
        let root = VBox::new(context.into_iter().chain([
            rules.widget(),
            row.widget(),
            status.widget(),
            preview.widget(),
            scored.widget(),
        ]));
        root.layout().set_width("100%");
        root.layout().set_overflow("hidden");

        let view = PanelView {
            root,
            listboxes: [src, dst, sport, dport],
            quick_ip,
            rating,
            undo,
            rules,
            status,
            preview,
            scored,
            preview_rows: options.preview_rows,
            scored_rows: options.scored_rows,
            indexing: Arc::clone(indexing),
            index_wait: INDEX_WAIT,
        };
        view.refill(state);
        view.show_scored(state);
        view.wire(state, uploads, &score, &save);
        view
    }

    fn wire(&self, state: &Shared, uploads: &Arc<Uploads>, score: &Button, save: &Button) {
        // Each callback owns a handle to the view and to the state.
        let bind = |action: fn(&PanelView, &Shared)| {
            let (view, state) = (self.clone(), Arc::clone(state));
            move || action(&view, &state)
        };
        for select in &self.listboxes {
            let run = bind(PanelView::show_preview);
            select.on_change(move |_| run());
        }
        let run = bind(PanelView::show_preview);
        self.quick_ip.on_change(move |_| run());
        let run = bind(PanelView::score);
        self.quick_ip.on_submit(move |_| run());
        let run = bind(PanelView::score);
        score.on_click(move |_| run());
        let (view, state, uploads) = (self.clone(), Arc::clone(state), Arc::clone(uploads));
        save.on_click(move |_| {
            // The outcome is on show; the caller from code is the one who wants it back.
            let _ = view.start_save(&state, &uploads);
        });
        let run = bind(PanelView::undo);
        self.undo.on_click(move |_| run());
    }

    /// Shows the panel as the cell's output.
    pub fn evcxr_display(&self) {
        self.root.evcxr_display();
    }

    /// Puts fresh labels in the listboxes, nothing chosen.
    fn fill_listboxes(&self, lists: &ListboxValues) {
        // Names beside addresses are labels only; the choice is read back by position.
        let columns = [&lists.src_ips, &lists.dst_ips, &lists.sports, &lists.dports];
        for (select, values) in self.listboxes.iter().zip(columns) {
            select.set_options(options(values));
            select.set_index(Some(0));
        }
    }

    /// The selection the controls express, read against the lists they were filled from.
    fn selection(&self, lists: &ListboxValues) -> Selection {
        let chosen = |select: &Select, values: &[String]| {
            select
                .index()
                .and_then(|index| index.checked_sub(1))
                .and_then(|index| values.get(index).cloned())
        };
        let quick = self.quick_ip.value();
        Selection {
            quick_ip: Some(quick).filter(|text| !text.trim().is_empty()),
            src_ip: chosen(&self.listboxes[0], &lists.src_ips),
            dst_ip: chosen(&self.listboxes[1], &lists.dst_ips),
            sport: chosen(&self.listboxes[2], &lists.sports),
            dport: chosen(&self.listboxes[3], &lists.dports),
        }
    }

    fn rating(&self) -> Option<u8> {
        self.rating
            .index()
            .and_then(|index| u8::try_from(index + 1).ok())
    }

    /// The status line's text.
    #[cfg(test)]
    pub fn status_text(&self) -> String {
        self.status.value()
    }

    /// Runs on the index thread once the index is built: shows what waited for it, and
    /// takes the indexing note off the status (unless an outcome replaced it already).
    pub fn index_ready(&self, state: &Shared) {
        if self.status.value() == indexing_hint() {
            self.status.set_value(status_hint(READY));
        }
        self.show_preview(state);
        self.show_scored(state);
    }

    /// Refreshes everything from the state (after an operation made from code).
    pub fn refresh(&self, state: &Shared) {
        self.refill(state);
        self.show_scored(state);
    }

    /// What the rules did, new listbox values, cleared choices, the Undo button's state, an
    /// empty preview.
    fn refill(&self, state: &Shared) {
        let investigation = lock(state);
        self.rules.set_value(rules_html(investigation.rules()));
        let shown = labelled(investigation.lists(), investigation.context());
        self.fill_listboxes(&shown);
        self.quick_ip.set_value("");
        self.undo.set_disabled(!investigation.can_undo());
        self.preview.set_value("");
    }

    fn score(&self, state: &Shared) {
        if !self.indexing.is_done() {
            self.status.set_value(status_hint(&format!(
                "Scoring: waiting for the index (at most {} s)…",
                self.index_wait.as_secs()
            )));
            self.indexing.wait(self.index_wait);
        }
        let result = {
            let mut investigation = lock(state);
            let selection = self.selection(investigation.lists());
            match self.rating() {
                Some(rating) => investigation.score(&selection, rating),
                None => Err(crate::Error::Selection(
                    "choose a rating (1, 2 or 3)".into(),
                )),
            }
        };
        match result {
            Ok(report) => {
                self.status.set_value(status_html(&[(
                    true,
                    format!("{} matching connections scored", report.scored),
                )]));
                self.refill(state);
                self.show_scored(state);
            }
            Err(error) => self
                .status
                .set_value(status_html(&[(false, error.to_string())])),
        }
    }

    /// *Save*: sorts, shows that, then uploads on a thread of its own, whose end replaces
    /// the status. Returns at once; refused (and said so) while an upload is running.
    pub fn start_save(
        &self,
        state: &Shared,
        uploads: &Arc<Uploads>,
    ) -> Result<SaveOutcome, SaveRefused> {
        self.status.set_value(status_hint("Saving and sorting…"));
        let saved = match saving::begin(state, uploads) {
            Ok(saved) => saved,
            Err(refused) => {
                self.status
                    .set_value(status_html(&[(false, refused.to_string())]));
                return Err(refused);
            }
        };
        // Shown before the upload starts, so its end can only come after.
        self.show_save(state, &saved.outcome);
        let view = self.clone();
        let outcome = saved.start(move |status| view.show_upload_end(status));
        if !matches!(outcome.upload, super::UploadStep::Started { .. }) {
            // The upload thread could not start: the outcome says why.
            self.status.set_value(status_html(&save_lines(&outcome)));
        }
        Ok(outcome)
    }

    fn show_save(&self, state: &Shared, outcome: &SaveOutcome) {
        self.status.set_value(status_html(&save_lines(outcome)));
        self.refill(state);
        self.show_scored(state);
    }

    /// Runs on the upload's thread: the widgets library sends from any thread.
    fn show_upload_end(&self, status: &UploadStatus) {
        if let UploadStatus::Ended(result) = status {
            self.status
                .set_value(status_html(&[super::text::upload_line(result)]));
        }
    }

    fn undo(&self, state: &Shared) {
        let result = lock(state).undo();
        match result {
            Ok(rows) => {
                let line = undo_line(&UndoReport { rows });
                self.status.set_value(status_html(&[(true, line)]));
                self.refill(state);
                self.show_scored(state);
            }
            Err(error) => {
                self.status
                    .set_value(status_html(&[(false, error.to_string())]));
                self.undo.set_disabled(!lock(state).can_undo());
            }
        }
    }

    fn show_preview(&self, state: &Shared) {
        let mut investigation = lock(state);
        let selection = self.selection(investigation.lists());
        let nothing_chosen = selection == Selection::default();
        let html = if nothing_chosen {
            String::new()
        } else if investigation.waits_for_background_index() {
            hint_html("Preview after indexing…")
        } else {
            match investigation.preview(&selection, self.preview_rows) {
                Ok(preview) => format!(
                    "<div style=\"margin-top:6px\"><b>Preview:</b> {}</div>{}",
                    escape(&preview_summary(&preview)),
                    compact_table(&preview.first, "first matching connections")
                ),
                // While a quick IP is being typed it is not an address yet: say so plainly.
                Err(crate::Error::Selection(reason)) => hint_html(&format!("Preview: {reason}")),
                Err(error) => hint_html(&format!("Preview: {error}")),
            }
        };
        self.preview.set_value(html);
    }

    fn show_scored(&self, state: &Shared) {
        let mut investigation = lock(state);
        if investigation.waits_for_background_index() {
            let mut html = hint_html("Scored so far: counted once the day is indexed…");
            html.push_str(&log_html(investigation.log()));
            self.scored.set_value(html);
            return;
        }
        let html = match (
            investigation.severity_counts(),
            investigation.scored_page(self.scored_rows),
        ) {
            (Ok([unscored, high, medium, low]), Ok(page)) => {
                let mut html = format!(
                    "<div style=\"margin-top:8px\"><b>Scored so far:</b> {high} high, {medium} medium, {low} low; {unscored} unscored</div>"
                );
                html.push_str(&log_html(investigation.log()));
                if page.matched > 0 {
                    html.push_str(&compact_table(&page, "scored connections"));
                }
                html
            }
            (Err(error), _) | (_, Err(error)) => hint_html(&format!("Scored rows: {error}")),
        };
        self.scored.set_value(html);
    }
}

/// The scorings made from the panel, as a list (empty before the first).
fn log_html(log: &[super::LoggedScoring]) -> String {
    if log.is_empty() {
        return String::new();
    }
    let mut html = String::from("<ul style=\"margin:2px 0\">");
    for entry in log {
        let undone = if entry.undone { " (undone)" } else { "" };
        let rows = if entry.rows == 1 { "row" } else { "rows" };
        html.push_str(&format!(
            "<li>{}: rating {}, {} {rows}{undone}</li>",
            escape(&entry.selection),
            entry.rating,
            entry.rows
        ));
    }
    html.push_str("</ul>");
    html
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::context::NetworkContext;
    use crate::analysis::rules::RuleSet;
    use crate::panel::investigation::{Investigation, UploadSettings};
    use crate::panel::rules::PanelRules;
    use crate::panel::UploadStatus;
    use crate::spot::upload::ScpOptions;
    use crate::synthetic::{generate_bytes, DaySpec};
    use crate::{Day, Selection};
    use std::path::{Path, PathBuf};
    use std::sync::Mutex;
    use std::time::Duration;

    /// The ids of the panel's top-level widgets, for a day whose context file reads `context`.
    fn top_level(context: &[u8]) -> (Vec<String>, PanelView) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("flow_scores.csv"),
            generate_bytes(&DaySpec::new(50, 3)),
        )
        .unwrap();
        let day = crate::Day::open(dir.path()).unwrap();
        let context = NetworkContext::parse(context, Path::new("networkcontext.csv"));
        let rules = PanelRules::new(RuleSet::original(), true);
        let investigation =
            Investigation::open(day, context, rules, UploadSettings::default()).unwrap();
        let state: Shared = Arc::new(Mutex::new(investigation));
        let options = PanelOptions {
            interactive: true,
            ..PanelOptions::default()
        };
        let view = PanelView::build(&state, &Uploads::new(), &IndexSignal::new(true), &options);
        (view.root.child_ids(), view)
    }

    #[test]
    fn skipped_context_lines_get_one_banner_above_the_listboxes() {
        let (clean, view) = top_level(b"10.0.0.1, Mail\n");
        // What the rules did, the listbox row, then the status, the preview and what was
        // scored.
        assert_eq!(clean.len(), 5);
        assert_eq!(clean[0], view.rules.model_id());
        assert_eq!(clean[2], view.status.model_id());
        assert!(
            view.rules.value().contains("rules: "),
            "{}",
            view.rules.value()
        );

        let (warned, view) = top_level(b"10.0.0.1, Mail\nnot an address,x\n10.0.0.2,Web\n");
        // One more widget, first.
        assert_eq!(warned.len(), 6);
        assert_eq!(warned[1], view.rules.model_id());
        assert_eq!(
            warned[3..],
            [
                view.status.model_id(),
                view.preview.model_id(),
                view.scored.model_id()
            ]
        );
    }

    #[test]
    fn the_status_says_uploading_then_shows_how_the_upload_ended() {
        // A node whose connections wait in the listen queue: ssh never gets a banner.
        let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = silent.local_addr().unwrap().port();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("flow_scores.csv"),
            generate_bytes(&DaySpec::new(100, 4)),
        )
        .unwrap();
        let conf = dir.path().join("spot.conf");
        std::fs::write(&conf, "MLNODE=127.0.0.1\nLUSER=/home/u\nLPATH=/tmp/ml\n").unwrap();
        let day = Day::open(dir.path()).unwrap();
        let panel = day
            .panel_with(PanelOptions {
                upload: UploadSettings {
                    spot_conf: Some(conf),
                    scp: ScpOptions {
                        port: Some(port),
                        ssh_config_file: Some(PathBuf::from("/dev/null")),
                        connect_timeout: Duration::from_secs(1),
                        deadline: Duration::from_secs(5),
                        ..ScpOptions::default()
                    },
                },
                interactive: true,
                ..PanelOptions::default()
            })
            .unwrap();
        let ip = panel.lists().src_ips[0].clone();
        panel.score(&Selection::new().quick_ip(ip), 1).unwrap();
        let status = &panel.view.as_ref().expect("live widgets").status;

        panel.save_in_background().unwrap();
        let shown = status.value();
        assert!(
            shown.contains("Suspicious connects successfully updated"),
            "{shown}"
        );
        assert!(
            shown.contains("Uploading the feedback to the ML node"),
            "{shown}"
        );

        let ended = panel.wait_for_upload(Duration::from_secs(10));
        assert!(matches!(ended, UploadStatus::Ended(_)), "{ended}");
        let shown = status.value();
        assert!(
            shown.contains("Feedback not uploaded: ML node 127.0.0.1"),
            "{shown}"
        );
        assert!(!shown.contains("Uploading"), "{shown}");
    }

    #[test]
    fn while_indexing_the_preview_waits_and_a_scoring_is_logged_then_both_show() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("flow_scores.csv"),
            generate_bytes(&DaySpec::new(2000, 5)),
        )
        .unwrap();
        let day = Day::open(dir.path()).unwrap();
        let (release, held) = std::sync::mpsc::channel::<()>();
        let options = PanelOptions {
            upload: UploadSettings {
                spot_conf: Some(dir.path().join("no-spot.conf")),
                ..UploadSettings::default()
            },
            interactive: true,
            ..PanelOptions::default()
        };
        let panel = day
            .open_panel(options, move || {
                let _ = held.recv();
            })
            .unwrap();
        let mut view = panel.view.clone().expect("live widgets");
        view.index_wait = Duration::ZERO;
        let choose_first_source = |view: &PanelView| {
            view.listboxes[0].set_index(Some(1));
            view.show_preview(&panel.state);
        };

        choose_first_source(&view);
        assert_eq!(view.preview.value(), hint_html("Preview after indexing…"));
        view.rating.set_index(Some(1));
        view.score(&panel.state);
        let status = view.status.value();
        assert!(status.contains("matching connections scored"), "{status}");
        let scored = view.scored.value();
        assert!(
            scored.contains("counted once the day is indexed"),
            "{scored}"
        );
        assert!(scored.contains("<li>source IP "), "{scored}");

        choose_first_source(&view);
        release.send(()).unwrap();
        assert!(panel.wait_for_index(Duration::from_secs(60)));
        assert!(view.preview.value().contains("<b>Preview:</b>"));
        let scored = view.scored.value();
        assert!(scored.contains("<b>Scored so far:</b>"), "{scored}");
        assert!(scored.contains("<li>source IP "), "{scored}");
        // The scoring's outcome stays: only the indexing note is cleared.
        assert_eq!(view.status.value(), status);
    }
}
