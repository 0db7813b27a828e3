//! Scoring: the analyst's rating of the rows a selection matches, optionally recording what
//! changed so that it can be undone.
//!
//! A severity is one byte, so a scoring is made in place ([`crate::day::in_place`]): under the
//! day's lock the matching rows are found, by a read-only scan of the day ([`score_recorded`],
//! the command line's and [`crate::Day::score`]'s way) or by the caller's index of it
//! ([`score_located`], the panel's way), and only their `sev` bytes are written. Where a
//! matching row's `sev` is not a single byte (written quoted, `"0"`), the scoring goes through
//! the one rewrite pass instead ([`crate::day::update`]), which writes every severity it sets
//! as one digit.

use crate::csv::blocks::{BlockReader, Place};
use crate::csv::row::Row;
use crate::csv::schema::Column;
use crate::day::in_place::{self, Located, Target};
use crate::day::paths::DayPaths;
use crate::day::recovery::lock_and_recover;
use crate::day::recovery::patch_journal::OwnedFlows;
use crate::day::recovery::scoring_journal::{self, FeedbackBefore, JournalState};
use crate::day::selection::{Matcher, Selection};
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

/// A scoring's report, and what it changed when it changed anything.
pub(crate) type Scored = (ScoreReport, Option<ScoringRecord>);

fn check_rating(rating: u8) -> Result<(), Error> {
    if (1..=3).contains(&rating) {
        Ok(())
    } else {
        Err(Error::Rating(rating))
    }
}

/// Scores the rows matching `selection` with `rating` and appends them to the feedback file.
pub(crate) fn score(
    paths: &DayPaths,
    selection: &Selection,
    rating: u8,
) -> Result<ScoreReport, Error> {
    score_recorded(paths, selection, rating).map(|(report, _)| report)
}

/// Scores like [`score`] and records what changed (`None` when nothing matched).
pub(crate) fn score_recorded(
    paths: &DayPaths,
    selection: &Selection,
    rating: u8,
) -> Result<Scored, Error> {
    check_rating(rating)?;
    let matcher = selection.matcher()?;
    let scanned = score_located(paths, rating, |_| {
        let mut reader = BlockReader::open(&paths.flow)?;
        locate(&mut reader, &matcher)
    })?;
    match scanned {
        Some(scored) => Ok(scored),
        None => score_by_rewrite(paths, &matcher, rating),
    }
}

/// Scores in place the rows `locate` finds: it is called under the day's lock with the
/// identity of `flow_scores.csv` then, and returns the rows of that version, or `None` when
/// it cannot tell them (an index of another version, a matching `sev` that is not one byte).
/// `None` when nothing was scored for that reason, or because a located `sev` byte was not
/// what `locate` said: the caller then scores with [`score_recorded`].
pub(crate) fn score_located(
    paths: &DayPaths,
    rating: u8,
    locate: impl FnOnce(FileIdentity) -> Result<Option<Located>, Error>,
) -> Result<Option<Scored>, Error> {
    check_rating(rating)?;
    let _lock = lock_and_recover(paths)?;
    let before = FileIdentity::of(&paths.flow)?;
    let Some(located) = locate(before)? else {
        return Ok(None);
    };
    write_located(paths, before, &located, rating)
}

/// The rows `matcher` matches, found in one read-only pass that checks every row as a
/// scoring always did (severity, ports), so bad input is refused before anything is written.
/// `None` when a matching row's `sev` is not a single byte.
fn locate(reader: &mut BlockReader, matcher: &Matcher) -> Result<Option<Located>, Error> {
    let sev_index = reader.schema().slot_or_absent(Column::Sev);
    let mut targets = Vec::new();
    let mut rows = 0u64;
    let mut single_bytes = true;
    loop {
        let block_start = reader.position() as u64;
        let mut visit = |row: &Row, place: Place| -> Result<(), Error> {
            let severity = row.severity()?;
            row.port(Column::Sport)?;
            row.port(Column::Dport)?;
            let position = rows;
            rows += 1;
            if !matcher.matches(row) {
                return Ok(());
            }
            let sev = row.raw_span(sev_index);
            let start = block_start + place.start as u64;
            if sev.len() == 1 {
                targets.push(Target {
                    position,
                    line: row.line(),
                    row: start..start + place.len as u64,
                    sev_at: start + sev.start as u64,
                    severity,
                });
            } else {
                single_bytes = false;
            }
            Ok(())
        };
        let Some(block) = reader.next_block(&mut visit)? else {
            break;
        };
        reader.bytes().forget(block);
    }
    Ok(single_bytes.then(|| Located {
        schema: reader.schema().clone(),
        rows,
        targets,
    }))
}

/// Scores the located rows in place and records it.
fn write_located(
    paths: &DayPaths,
    before: FileIdentity,
    located: &Located,
    rating: u8,
) -> Result<Option<Scored>, Error> {
    let report = ScoreReport {
        scored: located.targets.len() as u64,
        rows: located.rows,
    };
    if located.targets.is_empty() {
        return Ok(Some((report, None)));
    }
    let owned = OwnedFlows::open(paths)?;
    let Some(feedback_before) = in_place::score(paths, &owned, located, rating)? else {
        return Ok(None);
    };
    let record = ScoringRecord {
        changed: located
            .targets
            .iter()
            .map(|target| (target.position, target.severity))
            .collect(),
        sev_at: Some(located.targets.iter().map(|target| target.sev_at).collect()),
        rating,
        flow_before: before,
        flow_after: Some(FileIdentity::of(&paths.flow)?),
        feedback_before,
        feedback_after: FileIdentity::of(&paths.feedback).ok(),
    };
    Ok(Some((report, Some(record))))
}

/// What the rewrite pass saw first, under the lock.
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

/// Scores through the rewrite pass and records what changed (`None` when nothing matched).
fn score_by_rewrite(paths: &DayPaths, matcher: &Matcher, rating: u8) -> Result<Scored, Error> {
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
        sev_at: None,
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
