//! Scoring: the analyst's rating of the rows a selection matches, through the one write path
//! ([`crate::day::update`]), optionally recording what changed so that it can be undone.

use crate::csv::schema::Column;
use crate::day::paths::DayPaths;
use crate::day::recovery::lock_and_recover;
use crate::day::recovery::scoring_journal::{self, FeedbackBefore, JournalState};
use crate::day::selection::Selection;
use crate::day::undo::ScoringRecord;
use crate::day::update;
use crate::error::Error;
use crate::io::identity::FileIdentity;
use std::fs;
use std::os::unix::fs::MetadataExt;

/// What a scoring did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ScoreReport {
    /// Rows given the rating (each counted once).
    pub scored: u64,
    /// Data rows in the file.
    pub rows: u64,
}

/// Scores the rows matching `selection` with `rating` and appends them to the feedback file.
pub(crate) fn score(
    paths: &DayPaths,
    selection: &Selection,
    rating: u8,
) -> Result<ScoreReport, Error> {
    if !(1..=3).contains(&rating) {
        return Err(Error::Rating(rating));
    }
    let matcher = selection.matcher()?;
    let report = update::update_severities(
        paths,
        |row| {
            row.port(Column::Sport)?;
            row.port(Column::Dport)?;
            Ok(matcher.matches(row).then_some(rating))
        },
        true,
    )?;
    Ok(ScoreReport {
        scored: report.matched,
        rows: report.rows,
    })
}

/// What the scoring pass saw first, under the lock.
struct PassStart {
    flow_before: FileIdentity,
    feedback_before: Option<FeedbackBefore>,
    tmp: Option<(u64, u64)>,
}

fn look_at_pass(paths: &DayPaths) -> Result<PassStart, Error> {
    let feedback_before = match scoring_journal::read(&paths.journal)? {
        Some(JournalState::Begun(before)) => Some(before),
        _ => None,
    };
    let tmp = fs::metadata(&paths.tmp).ok().map(|m| (m.dev(), m.ino()));
    Ok(PassStart {
        flow_before: FileIdentity::of(&paths.flow)?,
        feedback_before,
        tmp,
    })
}

/// Scores like [`score`] and records what changed (`None` when nothing matched).
pub(crate) fn score_recorded(
    paths: &DayPaths,
    selection: &Selection,
    rating: u8,
) -> Result<(ScoreReport, Option<ScoringRecord>), Error> {
    if !(1..=3).contains(&rating) {
        return Err(Error::Rating(rating));
    }
    let matcher = selection.matcher()?;
    let mut start: Option<PassStart> = None;
    let mut position = 0u64;
    let mut changed = Vec::new();
    let report = update::update_severities(
        paths,
        |row| {
            if start.is_none() {
                // The lock is held and `.tmp` and the journal exist: this is the pass's view.
                start = Some(look_at_pass(paths)?);
            }
            row.port(Column::Sport)?;
            row.port(Column::Dport)?;
            let at = position;
            position += 1;
            if matcher.matches(row) {
                changed.push((at, row.severity()?));
                Ok(Some(rating))
            } else {
                Ok(None)
            }
        },
        true,
    )?;
    let score = ScoreReport {
        scored: report.matched,
        rows: report.rows,
    };
    let Some(start) = start.filter(|_| report.matched > 0) else {
        return Ok((score, None));
    };
    let _lock = lock_and_recover(paths)?;
    let flow_now = FileIdentity::of(&paths.flow)?;
    let ours = start
        .tmp
        .is_some_and(|(dev, ino)| flow_now.same_file(dev, ino));
    let record = ScoringRecord {
        changed,
        rating,
        flow_before: start.flow_before,
        flow_after: ours.then_some(flow_now),
        feedback_before: start.feedback_before.unwrap_or(FeedbackBefore {
            len: 0,
            existed: false,
        }),
        feedback_after: if ours && start.feedback_before.is_some() {
            FileIdentity::of(&paths.feedback).ok()
        } else {
            None
        },
    };
    Ok((score, Some(record)))
}
