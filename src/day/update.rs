//! The one write path that changes severities: scoring and rules both use it.
//!
//! One pass, under the day's lock, re-reading the file as it is now (so a
//! concurrent writer's changes are kept): every row is copied byte for byte to
//! `.tmp` except the `sev` field of the rows the caller decides to change;
//! those rows are also appended to the feedback file if asked. Then `.tmp`
//! replaces `flow_scores.csv` by an atomic rename. The journal (see
//! [`crate::day::recovery::scoring_journal`]) ties the two files together across a crash.

use crate::csv::blocks::{BlockReader, Place};
use crate::csv::row::Row;
use crate::csv::schema::Column;
use crate::day::feedback::{FeedbackPlan, FeedbackWriter};
use crate::day::paths::DayPaths;
use crate::day::recovery::lock_and_recover;
use crate::day::recovery::scoring_journal::{self, FeedbackBefore, Journal};
use crate::error::{Error, Position};
use crate::io::durable::{
    create_temporary, drop_in_background, finish_temporary, remove_if_present, replace, sync_dir,
    write_to, SyncingWriter,
};
use crate::io::ownership::Ownership;
use std::ops::Range;

/// What an update pass did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UpdateReport {
    /// Data rows read.
    pub rows: u64,
    /// Rows whose severity was set (each counted once).
    pub matched: u64,
    /// Rows appended to the feedback file.
    pub fed_back: u64,
}

/// Runs one update pass. `decide` sees every data row and returns the new
/// severity (0..=3) of the rows to change; an error from it stops the pass
/// and changes nothing.
pub(crate) fn update_severities(
    paths: &DayPaths,
    mut decide: impl FnMut(&Row) -> Result<Option<u8>, Error>,
    feed_back: bool,
) -> Result<UpdateReport, Error> {
    let _lock = lock_and_recover(paths)?;
    let mut pass = Pass::start(paths, feed_back)?;
    match pass.run(&mut decide) {
        Ok(report) if report.matched == 0 => {
            pass.abandon()?;
            Ok(report)
        }
        Ok(report) => {
            pass.commit()?;
            Ok(report)
        }
        Err(error) => {
            // The original error matters more than a failed clean-up, which
            // the next open finishes from the journal anyway.
            let _ = pass.abandon();
            Err(error)
        }
    }
}

/// An update pass under way.
struct Pass<'p> {
    paths: &'p DayPaths,
    rows: BlockReader,
    tmp: SyncingWriter,
    /// Present when the pass feeds rows back: the journal that ties the
    /// feedback append to the rename, the feedback file as it was, the writer.
    feedback: Option<(Journal, FeedbackBefore, FeedbackWriter)>,
}

impl<'p> Pass<'p> {
    /// Reads the header, opens `.tmp` and, for feedback, writes the journal's
    /// `begin` line and opens the feedback file.
    fn start(paths: &'p DayPaths, feed_back: bool) -> Result<Pass<'p>, Error> {
        let rows = BlockReader::open(&paths.flow)?;
        let header = rows.header().to_vec();
        let plan = if feed_back {
            Some(FeedbackPlan::inspect(&paths.feedback, rows.schema())?)
        } else {
            None
        };
        let mut tmp = create_temporary(&paths.tmp, &paths.flow)?;
        write_to(&mut tmp, &paths.tmp, &header)?;
        let mut pass = Pass {
            paths,
            rows,
            tmp,
            feedback: None,
        };
        if let Some(plan) = plan {
            // The journal and a new feedback file are the day's files too: they take the
            // flow file's owner, group and permissions.
            let model = Ownership::model(&paths.flow)?;
            let before = plan.before;
            let journal = Journal::begin(&paths.journal, &paths.dir, before, model.as_ref())?;
            pass.feedback = Some((journal, before, plan.open(model.as_ref())?));
        }
        Ok(pass)
    }

    /// Copies every row to `.tmp`, block by block, changing the `sev` field
    /// of the decided ones.
    fn run(
        &mut self,
        decide: &mut impl FnMut(&Row) -> Result<Option<u8>, Error>,
    ) -> Result<UpdateReport, Error> {
        let Pass {
            paths,
            rows,
            tmp,
            feedback,
        } = self;
        let sev_index = rows.schema().slot_or_absent(Column::Sev);
        let mut report = UpdateReport::default();
        let mut changes: Vec<(Range<usize>, u8)> = Vec::new();
        // Rows of a block are visited before it is written, so the changes
        // are gathered, then handed to the writer with the block.
        let mut visit = |changes: &mut Vec<(Range<usize>, u8)>,
                         block_start: usize,
                         row: &Row,
                         place: Place|
         -> Result<(), Error> {
            row.severity()?;
            report.rows += 1;
            let Some(severity) = decide(row)? else {
                return Ok(());
            };
            if severity > 3 {
                return Err(Error::Severity {
                    at: Position::line(row.path(), row.line()),
                    value: severity,
                });
            }
            let sev = row.raw_span(sev_index);
            let start = block_start + place.start;
            changes.push((start + sev.start..start + sev.end, severity));
            report.matched += 1;
            if let Some((_, _, feedback)) = feedback.as_mut() {
                feedback.append(row, sev_index, severity)?;
                report.fed_back += 1;
            }
            Ok(())
        };
        loop {
            let block_start = rows.position();
            let Some(range) = rows
                .next_block(&mut |row: &Row, place| visit(&mut changes, block_start, row, place))?
            else {
                break;
            };
            let block = rows.changed_block(range, std::mem::take(&mut changes));
            tmp.write_mapped(block, true)
                .map_err(|e| Error::io(&paths.tmp, "writing", e))?;
        }
        Ok(report)
    }

    /// Makes the pass durable: `.tmp` and feedback on disk, journal
    /// `prepared`, rename, journal removed.
    fn commit(self) -> Result<(), Error> {
        let Pass {
            paths,
            rows,
            tmp,
            feedback,
        } = self;
        finish_temporary(&paths.tmp, tmp)?;
        let committed = match feedback {
            None => replace(&paths.tmp, &paths.flow, &paths.dir),
            Some((mut journal, _, writer)) => (|| {
                writer.finish()?;
                journal.prepare(&paths.journal)?;
                replace(&paths.tmp, &paths.flow, &paths.dir)?;
                drop(journal);
                remove_if_present(&paths.journal)?;
                sync_dir(&paths.dir)
            })(),
        };
        // The old version's last handle: freeing it is slow (see
        // `drop_in_background`) and nobody waits for it.
        drop_in_background(rows);
        committed
    }

    /// Undoes the pass: `.tmp` removed, feedback truncated back, journal removed.
    fn abandon(self) -> Result<(), Error> {
        let Pass {
            paths,
            tmp,
            feedback,
            ..
        } = self;
        drop(tmp);
        remove_if_present(&paths.tmp)?;
        if let Some((journal, before, writer)) = feedback {
            // Dropping the writer flushes its buffer: truncate after that.
            drop(writer);
            // The feedback is this pass's own, under the lock: nothing to note.
            scoring_journal::roll_back_feedback(&paths.feedback, before)?;
            drop(journal);
            remove_if_present(&paths.journal)?;
        }
        sync_dir(&paths.dir)
    }
}
