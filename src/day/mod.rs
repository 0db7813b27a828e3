//! A day of flows: opening it, reading it, and every operation on it.

pub(crate) mod feedback;
pub(crate) mod in_place;
pub(crate) mod paths;
pub(crate) mod recovery;
pub(crate) mod scoring;
pub(crate) mod selection;
pub(crate) mod sort;
pub(crate) mod undo;
pub(crate) mod update;

use crate::csv::blocks::{BlockReader, BLOCK};
use crate::csv::records::FlowReader;
use crate::csv::row::Row;
use crate::csv::schema::{Column, Schema};
use crate::day::paths::{DayPaths, Settings};
use crate::day::recovery::{current_version, lock_and_recover, RecoveryNote};
use crate::day::selection::Selection;
use crate::day::sort::SortReport;
use crate::day::update::UpdateReport;
use crate::error::Error;
use crate::io::durable::{
    create_temporary, finish_temporary, remove_if_present, replace, write_to,
};
use crate::io::identity::FileIdentity;
use crate::io::mapped::FileBytes;
use crate::io::ownership::{create_new_like, Ownership};
use crate::io::patch::OverlaidRead;
pub use scoring::ScoreReport;
use std::collections::HashSet;
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
pub use undo::{ScoringRecord, UndoError};

/// One day of suspicious flows (`flow_scores.csv` and its companion files).
#[derive(Debug, Clone)]
pub struct Day {
    paths: DayPaths,
    settings: Settings,
    schema: Schema,
    /// What recovery found when the day was opened.
    notes: Vec<RecoveryNote>,
    /// Opened with [`Day::open_read_only`].
    read_only: bool,
}

/// The flows open for one whole read, as recovery will leave them (see
/// [`crate::day::recovery::current_version`]): no change in place happens while it is open.
pub(crate) struct Reading {
    /// The bytes, from the start of the file.
    pub source: OverlaidRead<File>,
    /// The file read, for errors.
    pub path: PathBuf,
    /// Which version of it.
    // Read only by the panel, whose index says which version it describes.
    #[cfg_attr(not(feature = "panel"), allow(dead_code))]
    pub identity: FileIdentity,
}

/// The distinct values offered by the four listboxes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListboxValues {
    /// Source IPs, first seen first.
    pub src_ips: Vec<String>,
    /// Destination IPs.
    pub dst_ips: Vec<String>,
    /// Source ports.
    pub sports: Vec<String>,
    /// Destination ports.
    pub dports: Vec<String>,
    /// Data rows looked at (at most `coff`).
    pub rows_read: usize,
}

impl Day {
    /// Opens the day in `dir` (the folder holding `flow_scores.csv`).
    ///
    /// Under the day's lock: finishes or rolls back an operation a crash
    /// interrupted (what it found is in [`Day::recovery_notes`]), reads the
    /// header, and makes `flow_scores_bu.csv` if it is missing (never
    /// overwriting one).
    pub fn open(dir: impl AsRef<Path>) -> Result<Day, Error> {
        Day::open_paths(DayPaths::for_day_folder(dir.as_ref()))
    }

    /// Opens the day of a notebook whose working folder is
    /// `<oa>/ipynb/<source>/<date>/` (data in `<oa>/data/<source>/<date>/`).
    pub fn from_notebook_dir(cwd: impl AsRef<Path>) -> Result<Day, Error> {
        Day::open_paths(DayPaths::for_notebook_folder(cwd.as_ref())?)
    }

    /// Opens the day in `dir` to read it only, for listboxes, heuristics and connections:
    /// needs read access only and writes nothing (no recovery, no backup). Each read holds
    /// the day's shared lock only while it picks the version to read, and that version's own
    /// lock for as long as it reads (see [`Day::for_each_row`]). An operation a crash
    /// interrupted is left for the next writer to recover; reads see the flows as that
    /// recovery will leave them, and [`Day::recovery_notes`] says it is pending. The write
    /// methods still work where the caller may write (they lock and recover first, as
    /// always).
    pub fn open_read_only(dir: impl AsRef<Path>) -> Result<Day, Error> {
        Day::open_paths_read_only(DayPaths::for_day_folder(dir.as_ref()))
    }

    /// [`Day::open_read_only`] with explicit paths.
    pub fn open_paths_read_only(paths: DayPaths) -> Result<Day, Error> {
        let current = current_version(&paths)?;
        let schema = FlowReader::small(current.file, &current.path)
            .read_header()?
            .0;
        Ok(Day {
            settings: Settings::defaults(&paths.context),
            paths,
            schema,
            notes: current.pending.into_iter().collect(),
            read_only: true,
        })
    }

    /// Opens a day with explicit paths (and [`DayPaths::lock_wait`]).
    pub fn open_paths(paths: DayPaths) -> Result<Day, Error> {
        let recovered = lock_and_recover(&paths)?;
        let schema = FlowReader::open_small(&paths.flow)?.read_header()?.0;
        if !paths.backup.exists() {
            make_backup(&paths)?;
        }
        let settings = Settings::defaults(&paths.context);
        Ok(Day {
            paths,
            settings,
            schema,
            notes: recovered.notes,
            read_only: false,
        })
    }

    /// What opening the day found of an operation a crash (or a killed process) interrupted,
    /// and what it did about it; empty when nothing was interrupted. A scoring rolled back
    /// must be done again. (Operations later recover in the same way before they write; their
    /// findings are not kept.)
    pub fn recovery_notes(&self) -> &[RecoveryNote] {
        &self.notes
    }

    /// True when the day was opened with [`Day::open_read_only`]: whoever opened it asked
    /// that nothing be written, so callers that would write on their own account (the
    /// panel's rules) leave the day alone.
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// The day's settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Sets how many rows fill the listboxes.
    pub fn set_coff(&mut self, coff: usize) {
        self.settings.coff = coff;
    }

    /// Sets how long each operation waits for the day's lock before it gives up
    /// ([`DayPaths::lock_wait`]).
    pub fn set_lock_wait(&mut self, wait: Duration) {
        self.paths.lock_wait = wait;
    }

    /// Sets the network context file.
    pub fn set_nwloc(&mut self, nwloc: impl Into<PathBuf>) {
        self.settings.nwloc = nwloc.into();
    }

    /// The day's files.
    pub fn paths(&self) -> &DayPaths {
        &self.paths
    }

    /// The columns of `flow_scores.csv` when the day was opened.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// The flows open for one whole read (see [`Reading`]).
    pub(crate) fn read_flows(&self) -> Result<Reading, Error> {
        let current = current_version(&self.paths)?;
        Ok(Reading {
            identity: FileIdentity::of_file(&current.file, &current.path)?,
            source: OverlaidRead::new(current.file, current.overlay),
            path: current.path,
        })
    }

    /// Calls `visit` with every data row, in file order, in constant memory.
    ///
    /// The whole pass sees one state of the day: it reads the version a writer that replaces
    /// the file by rename leaves whole, and holds that version's own lock, which a scoring or
    /// an undo in place waits for (so such a writer waits for the pass, at most the day's
    /// lock wait). Writers that rename are not held up. `visit` must therefore not score or
    /// undo in this day: that would wait for the pass it runs in.
    pub fn for_each_row<E: From<Error>>(
        &self,
        mut visit: impl FnMut(&Row) -> Result<(), E>,
    ) -> Result<(), E> {
        let current = current_version(&self.paths)?;
        let path = current.path;
        let mut reader = if current.overlay.is_empty() {
            BlockReader::of_file(current.file, &path)?
        } else {
            let bytes = FileBytes::read_overlaid(current.file, &path, &current.overlay)?;
            BlockReader::over(&path, Arc::new(bytes), BLOCK)?
        };
        while let Some(block) = reader.next_block(&mut |row: &Row, _| visit(row))? {
            reader.bytes().forget(block);
        }
        Ok(())
    }

    /// The listbox values: distinct `srcIP`, `dstIP`, `sport`, `dport` of the
    /// unscored rows among the first `coff` data rows, first seen first. Reads
    /// only those rows.
    pub fn listbox_values(&self) -> Result<ListboxValues, Error> {
        let reading = self.read_flows()?;
        let mut reader = FlowReader::small(reading.source, &reading.path);
        let (schema, _) = reader.read_header()?;
        let mut values = ListboxValues::default();
        let mut seen: [HashSet<String>; 4] = Default::default();
        let columns = [Column::SrcIp, Column::DstIp, Column::Sport, Column::Dport];
        while values.rows_read < self.settings.coff {
            let Some(record) = reader.next_record()? else {
                break;
            };
            values.rows_read += 1;
            let row = Row::new(record, &schema);
            if row.severity()? != 0 {
                continue;
            }
            let lists = [
                &mut values.src_ips,
                &mut values.dst_ips,
                &mut values.sports,
                &mut values.dports,
            ];
            for ((column, list), seen) in columns.iter().zip(lists).zip(seen.iter_mut()) {
                let value = row.get(*column);
                if !seen.contains(value) {
                    seen.insert(value.to_owned());
                    list.push(value.to_owned());
                }
            }
        }
        Ok(values)
    }

    /// The general write path for severities: one locked, crash-safe pass that
    /// sets `sev` of the rows for which `decide` returns `Some(severity)` (0..=3)
    /// and, if `feed_back`, appends those rows to the feedback file. It writes a
    /// new version of the day and renames it into place (rules use it; a
    /// scoring writes only its bytes, in place, see [`Day::score`]).
    ///
    /// `decide` must not call another write operation of the same day: it runs
    /// while the day's lock is held, so that call would wait forever.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), flow_edge::Error> {
    /// use flow_edge::{Column, Day};
    /// let day = Day::open("data/flow/20160708")?;
    /// // Rate every DNS flow as low risk, without feedback.
    /// let report = day.update_severities(|row| (row.get(Column::Dport) == "53").then_some(3), false)?;
    /// println!("{} rows changed", report.matched);
    /// # Ok(()) }
    /// ```
    pub fn update_severities(
        &self,
        mut decide: impl FnMut(&Row) -> Option<u8>,
        feed_back: bool,
    ) -> Result<UpdateReport, Error> {
        update::update_severities(&self.paths, |row| Ok(decide(row)), feed_back)
    }

    /// Like [`Day::update_severities`], for deciders that can fail (a field
    /// that does not parse, say): the first error stops the pass and nothing
    /// changes.
    pub fn try_update_severities(
        &self,
        decide: impl FnMut(&Row) -> Result<Option<u8>, Error>,
        feed_back: bool,
    ) -> Result<UpdateReport, Error> {
        update::update_severities(&self.paths, decide, feed_back)
    }

    /// Scores the rows matching `selection` with `rating` (1 high, 2 medium,
    /// 3 low) and appends them to the feedback file.
    ///
    /// Under the day's lock it reads the whole day once (every row checked, so bad
    /// input is refused with its position before anything is written), then writes
    /// the matching rows' one-byte `sev` fields in place under a journal: a crash
    /// leaves the scoring in both files or in neither (see the crate's "Data
    /// safety"). A matching `sev` that is not one byte (quoted) makes it rewrite
    /// the day instead, as [`Day::update_severities`] does.
    pub fn score(&self, selection: &Selection, rating: u8) -> Result<ScoreReport, Error> {
        scoring::score(&self.paths, selection, rating)
    }

    /// Scores like [`Day::score`] and returns what the scoring changed, so that
    /// [`Day::undo`] can take it back (`None` when nothing matched).
    pub fn score_undoable(
        &self,
        selection: &Selection,
        rating: u8,
    ) -> Result<(ScoreReport, Option<ScoringRecord>), Error> {
        scoring::score_recorded(&self.paths, selection, rating)
    }

    /// Puts back the severities a scoring from [`Day::score_undoable`] changed and removes
    /// the rows it appended to the feedback file, under the same lock and crash safety as
    /// the scoring (in place when the scoring was). Refuses, changing nothing, when either
    /// file changed since.
    pub fn undo(&self, record: &ScoringRecord) -> Result<(), UndoError> {
        undo::undo(&self.paths, record).map(|_| ())
    }

    /// Saves and sorts: unscored rows first by `lda_score`, then scored rows by
    /// severity, each group in its current order.
    pub fn save_and_sort(&self) -> Result<SortReport, Error> {
        sort::save_and_sort(&self.paths)
    }

    /// Makes `flow_scores.csv` a copy of `flow_scores_bu.csv`, atomically.
    /// The backup is checked as it is copied; a bad backup changes nothing.
    /// The feedback file is left as it is.
    pub fn restore_backup(&self) -> Result<(), Error> {
        let _lock = lock_and_recover(&self.paths)?;
        checked_copy(&self.paths.backup, &self.paths.tmp, &self.paths.flow)?;
        replace(&self.paths.tmp, &self.paths.flow, &self.paths.dir)
    }
}

/// Copies `flow_scores.csv` to `flow_scores_bu.csv` through a temporary, with the flow file's
/// owner, group and permissions.
fn make_backup(paths: &DayPaths) -> Result<(), Error> {
    let tmp = &paths.backup_tmp;
    remove_if_present(tmp)?;
    let mut out = create_new_like(tmp, Ownership::model(&paths.flow)?.as_ref())?;
    let mut flows = fs::File::open(&paths.flow)
        .map_err(|e| Error::io(&paths.flow, "opening for reading", e))?;
    io::copy(&mut flows, &mut out).map_err(|e| Error::io(tmp, "copying the flows into", e))?;
    out.sync_all()
        .map_err(|e| Error::io(tmp, "flushing to disk", e))?;
    replace(tmp, &paths.backup, &paths.dir)
}

/// Copies a flow file block by block to the temporary `to` that will replace `target`, every
/// record checked, so a damaged one is refused before anything is replaced.
fn checked_copy(from: &Path, to: &Path, target: &Path) -> Result<(), Error> {
    let mut reader = BlockReader::open(from)?;
    let mut out = create_temporary(to, target)?;
    let copied = (|| {
        write_to(&mut out, to, reader.header())?;
        while let Some(range) = reader.next_block(&mut |_: &Row, _| Ok::<(), Error>(()))? {
            out.write_mapped(reader.changed_block(range, Vec::new()), false)
                .map_err(|e| Error::io(to, "writing", e))?;
        }
        Ok(())
    })();
    match copied {
        Ok(()) => finish_temporary(to, out),
        Err(error) => {
            drop(out);
            let _ = fs::remove_file(to);
            Err(error)
        }
    }
}
