//! What the panel does, without widgets: score, save, undo, preview, and the lists they
//! refresh. The widget view ([`super::view`]) only reads controls and shows outcomes, so
//! every behaviour here is testable without a browser.

use super::index::{FlowIndex, Preview};
use super::rules::{PanelRules, RulesStatus};
use crate::analysis::context::NetworkContext;
use crate::day::scoring;
use crate::day::selection::Selection;
use crate::day::sort::SortReport;
use crate::day::undo::{self, ScoringRecord, UndoError};
use crate::day::{Day, ListboxValues, ScoreReport};
use crate::error::Error;
use crate::spot::upload::{self, ScpOptions, UploadError, UploadReport, UploadTarget};
use std::path::PathBuf;
use std::time::Duration;

/// Environment variable naming the Spot configuration the panel's upload reads instead of
/// `/etc/duxbay.conf` (or `/etc/spot.conf`).
pub const SPOT_CONF_ENV: &str = "FLOW_EDGE_SPOT_CONF";

/// Where the feedback goes after *Save*.
#[derive(Debug, Clone, Default)]
pub struct UploadSettings {
    /// The Spot configuration file; `None` reads `/etc/duxbay.conf`, then `/etc/spot.conf`.
    pub spot_conf: Option<PathBuf>,
    /// How `scp` is run, and how long an upload may take (`scp.deadline`).
    pub scp: ScpOptions,
}

impl UploadSettings {
    /// The defaults, with the configuration path taken from `FLOW_EDGE_SPOT_CONF` when set.
    pub fn from_env() -> UploadSettings {
        UploadSettings {
            spot_conf: std::env::var_os(SPOT_CONF_ENV)
                .filter(|path| !path.is_empty())
                .map(PathBuf::from),
            scp: ScpOptions::default(),
        }
    }
}

/// One scoring made from the panel, for the table of what was scored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedScoring {
    /// The selection in words (`quick IP 10.0.0.5`, `source IP 10.0.0.1, dest port 80`).
    pub selection: String,
    /// The rating given.
    pub rating: u8,
    /// Rows rated.
    pub rows: u64,
    /// True once undone.
    pub undone: bool,
}

/// What *Save* did: the sort, then the upload (tried only when the sort succeeded).
#[derive(Debug)]
pub struct SaveOutcome {
    /// The save-and-sort.
    pub sort: Result<SortReport, Error>,
    /// Why the lists could not be read again after the sort, if they could not.
    pub refresh: Option<Error>,
    /// The feedback upload.
    pub upload: UploadStep,
}

/// The feedback upload of a *Save*.
#[derive(Debug)]
pub enum UploadStep {
    /// Not tried: the sort failed.
    NotTried,
    /// Sending on a thread of its own (the *Save* button, [`super::Panel::save_in_background`]):
    /// [`super::Panel::upload_status`] and the status area tell how it ends, within `deadline`.
    Started {
        /// How long it may take.
        deadline: Duration,
    },
    /// Sent, or not.
    Done(Result<UploadReport, UploadError>),
}

/// Everything sending the feedback needs, read when *Save* is pressed (so a configuration
/// problem shows at once): the day, where to, and how.
#[derive(Debug, Clone)]
pub(super) struct PlannedUpload {
    day: Day,
    target: UploadTarget,
    scp: ScpOptions,
}

impl PlannedUpload {
    /// Sends `flow_scores_fb.csv` as the original `ml_feedback` did, within the deadline.
    pub(super) fn send(&self) -> Result<UploadReport, UploadError> {
        upload::upload_day_feedback(&self.day, &self.target, &self.scp)
    }

    /// How long the upload may take.
    pub(super) fn deadline(&self) -> Duration {
        self.scp.deadline
    }
}

/// The panel's state: the day, its lists, the preview index, the last scoring.
#[derive(Debug)]
pub struct Investigation {
    day: Day,
    context: NetworkContext,
    rules: PanelRules,
    lists: ListboxValues,
    index: Option<FlowIndex>,
    last: Option<ScoringRecord>,
    log: Vec<LoggedScoring>,
    upload: UploadSettings,
}

/// The selection in words, for the log.
pub fn describe(selection: &Selection) -> String {
    let parts: Vec<String> = [
        ("quick IP", &selection.quick_ip),
        ("source IP", &selection.src_ip),
        ("dest IP", &selection.dst_ip),
        ("source port", &selection.sport),
        ("dest port", &selection.dport),
    ]
    .iter()
    .filter_map(|(name, value)| {
        value
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(|v| format!("{name} {v}"))
    })
    .collect();
    parts.join(", ")
}

impl Investigation {
    /// Applies the rules (as the original's `displaythis()` ran `set_rules()` first), then
    /// reads the listbox values. The preview index is built on first use (or by
    /// [`Investigation::ensure_index`] from a background thread).
    pub(super) fn open(
        day: Day,
        context: NetworkContext,
        mut rules: PanelRules,
        upload: UploadSettings,
    ) -> Result<Self, Error> {
        rules.apply(&day);
        let lists = day.listbox_values()?;
        Ok(Investigation {
            day,
            context,
            rules,
            lists,
            index: None,
            last: None,
            log: Vec::new(),
            upload,
        })
    }

    /// The day.
    pub fn day(&self) -> &Day {
        &self.day
    }

    /// The network context (names beside addresses).
    pub fn context(&self) -> &NetworkContext {
        &self.context
    }

    /// What the panel's rules did since it opened.
    pub fn rules(&self) -> &RulesStatus {
        self.rules.status()
    }

    /// The current listbox values.
    pub fn lists(&self) -> &ListboxValues {
        &self.lists
    }

    /// The scorings made from this panel, oldest first.
    pub fn log(&self) -> &[LoggedScoring] {
        &self.log
    }

    /// True when the last scoring can be undone (as far as known without the lock).
    pub fn can_undo(&self) -> bool {
        self.last.as_ref().is_some_and(ScoringRecord::is_undoable)
    }

    /// Builds the index if there is none or the file changed since (another notebook, the
    /// command line).
    pub fn ensure_index(&mut self) -> Result<&FlowIndex, Error> {
        let kept = match self.index.take() {
            Some(index) if index.is_current()? => index,
            _ => FlowIndex::build(&self.day)?,
        };
        Ok(self.index.insert(kept))
    }

    /// What `selection` would score.
    pub fn preview(&mut self, selection: &Selection, limit: usize) -> Result<Preview, Error> {
        let context = self.context.clone();
        let mut preview = self.ensure_index()?.preview(selection, limit)?;
        preview.first = preview.first.with_context(&context);
        Ok(preview)
    }

    /// Scores `selection` with `rating`, refreshes the lists and the index, and remembers
    /// the scoring for *Undo*.
    ///
    /// The index says where the matching rows and their `sev` bytes are, so the scoring
    /// writes those bytes in place without reading the day again; it reads the day (and
    /// rewrites it where a `sev` is not one byte) only when the index does not describe the
    /// file as it is under the lock.
    pub fn score(&mut self, selection: &Selection, rating: u8) -> Result<ScoreReport, Error> {
        let paths = self.day.paths().clone();
        let index = self.ensure_index()?;
        let located = scoring::score_located(&paths, rating, |now| {
            if index.identity() == now {
                index.locate(selection)
            } else {
                Ok(None)
            }
        })?;
        let (report, record) = match located {
            Some(scored) => scored,
            None => scoring::score_recorded(&paths, selection, rating)?,
        };
        if let Some(record) = record {
            self.refresh_index_after(&record)?;
            self.last = Some(record);
            self.log.push(LoggedScoring {
                selection: describe(selection),
                rating,
                rows: report.scored,
                undone: false,
            });
        }
        self.lists = self.day.listbox_values()?;
        Ok(report)
    }

    /// After our own scoring, the index only needs the new severities when it described the
    /// version the scoring read and the file kept its length (so every row kept its offset);
    /// otherwise it is rebuilt.
    fn refresh_index_after(&mut self, record: &ScoringRecord) -> Result<(), Error> {
        if let (Some(index), Some(after)) = (self.index.as_mut(), record.flow_after) {
            if index.identity() == record.flow_before && after.len() == record.flow_before.len() {
                index.set_severities(
                    record.changed.iter().map(|&(at, _)| at),
                    record.rating,
                    after,
                );
                return Ok(());
            }
        }
        self.index = Some(FlowIndex::build(&self.day)?);
        Ok(())
    }

    /// Undoes the last scoring made from this panel.
    pub fn undo(&mut self) -> Result<u64, UndoError> {
        let Some(record) = self.last.take() else {
            return Err(UndoError::Stale("no scoring from this panel to undo"));
        };
        let after = undo::undo(self.day.paths(), &record)?;
        if let Some(entry) = self.log.iter_mut().rev().find(|entry| !entry.undone) {
            entry.undone = true;
        }
        // Undo rewrites the same one-byte fields back: rows keep their offsets, so the
        // index only needs the old severities when it described the scored version.
        match self.index.as_mut() {
            Some(index)
                if Some(index.identity()) == record.flow_after
                    && after.len() == index.identity().len() =>
            {
                for &(at, previous) in &record.changed {
                    index.set_severities([at], previous, after);
                }
            }
            _ => self.index = Some(FlowIndex::build(&self.day)?),
        }
        self.lists = self.day.listbox_values()?;
        Ok(record.changed.len() as u64)
    }

    /// Applies the rules (their rows then sort with the scored ones), saves and sorts, then
    /// refreshes the lists and the index. The upload is left to the caller
    /// ([`Investigation::upload_plan`]), which must not hold the panel while it runs.
    pub fn sort_for_save(&mut self) -> (Result<SortReport, Error>, Option<Error>) {
        self.rules.apply(&self.day);
        let sort = self.day.save_and_sort();
        if sort.is_err() {
            // Nothing moved: the last scoring can still be undone (undo refuses if the rules
            // changed the day meanwhile). The rules may have scored rows: the lists follow.
            let refresh = self.day.listbox_values().map(|lists| self.lists = lists);
            return (sort, refresh.err());
        }
        // The sort moved rows: the last scoring can no longer be undone row by row.
        self.last = None;
        let refresh = self
            .day
            .listbox_values()
            .map(|lists| self.lists = lists)
            .and_then(|()| FlowIndex::build(&self.day))
            .map(|index| self.index = Some(index))
            .err();
        (sort, refresh)
    }

    /// Reads the Spot configuration for this day: where and how the feedback will go.
    pub(super) fn upload_plan(&self) -> Result<PlannedUpload, UploadError> {
        let config =
            upload::load_day_config(&self.day.paths().dir, self.upload.spot_conf.as_deref())?;
        Ok(PlannedUpload {
            day: self.day.clone(),
            target: UploadTarget::from_config(&config)?,
            scp: self.upload.scp.clone(),
        })
    }

    /// How long an upload from this panel may take.
    pub(super) fn upload_deadline(&self) -> Duration {
        self.upload.scp.deadline
    }

    /// Summary counts of the day by severity (unscored, 1, 2, 3).
    pub fn severity_counts(&mut self) -> Result<[u64; 4], Error> {
        Ok(self.ensure_index()?.severity_counts())
    }

    /// The first scored connections of the day, with names.
    pub fn scored_page(&mut self, limit: usize) -> Result<crate::ConnectionPage, Error> {
        let context = self.context.clone();
        Ok(self
            .ensure_index()?
            .scored_page(limit)?
            .with_context(&context))
    }
}
