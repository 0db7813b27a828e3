//! The journal of a change made in place: a scoring or an undo that writes single `sev` bytes
//! of `flow_scores.csv` where they are.
//!
//! Such a change touches two files: some bytes of the flows (written in place) and the
//! feedback file (rows appended by a scoring, cut off by an undo). Its journal lists every
//! byte to change (offset, byte before, byte after), the flow file's length, and the length
//! the feedback file comes back to. The journal is written whole, sealed by a checksum over
//! all of it, and made durable (file and folder entry) *before* either day file is touched.
//! Once both files are durable, the seal's word `sealed` is overwritten with `closed` and
//! flushed (one block of one file: cheaper than flushing the folder after a removal), which
//! completes the change; the journal is then removed. So a crash leaves one of:
//!
//! * no journal, or one that is not sealed: neither day file was touched; the journal is
//!   removed;
//! * a sealed journal: the change is anywhere between not begun and complete; recovery brings
//!   both files to the journal's target and removes it;
//! * a closed journal: the change is complete; it is removed.
//!
//! The two kinds go opposite ways, each the way its journal can always go:
//!
//! * a **scoring** rolls back: the bytes go back to the old ones and the feedback is cut back
//!   to its length before the scoring. Its feedback rows are appended after the journal is
//!   sealed, so the journal does not hold them and could not put them in again; cutting them
//!   off needs only the length.
//! * an **undo** rolls forward: once its journal is sealed the undo is decided; the bytes
//!   become the new ones (the severities from before the scoring) and the feedback is cut to
//!   its length before the scoring. The rows it cuts off are not in the journal either, so it
//!   could not roll back; finishing needs nothing the journal lacks.
//!
//! Either way recovery writes the same bytes and the same length however often it runs, so a
//! crash during recovery is recovered by the next one. It first checks that the flow file has
//! the recorded length and holds, at every offset, the old or the new byte: anything else
//! means something other than flow-edge changed the file since, and it refuses
//! ([`Error::JournalMismatch`]) rather than write into it.
//!
//! The journal is `flow_scores.csv.journal`, the path of a scoring's journal, so that a
//! flow-edge too old to know this kind refuses the day (its recovery reads an unknown first
//! line) instead of ignoring the journal and working on a half-changed file.
//!
//! A reader that finds a sealed journal reads the flows with the target bytes laid over them
//! ([`Found::overlay`]): the day as recovery will leave it. It holds the day's lock shared
//! while it looks, so the journal's writer is gone (a writer holds the day's lock from before
//! it writes the journal until after it removes it).

use crate::day::paths::DayPaths;
use crate::day::recovery::notes::RecoveryNote;
use crate::day::recovery::scoring_journal::{
    checked_body, checksum, roll_back_feedback, FeedbackBefore,
};
use crate::error::Error;
use crate::io::crash_point;
use crate::io::durable::{remove_if_present, sync_dir};
use crate::io::lock::own_flows;
use crate::io::ownership::{create_new_like, Ownership};
use crate::io::patch::{self, Overlay, Patch, Side};
use std::fmt::Write as _;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::Path;

/// The first word of the journal's first line.
const MAGIC: &str = "flow-edge-inplace-v1";

/// The last line's first word, before the change is complete and after.
const SEALED: &str = "sealed ";
const CLOSED: &str = "closed ";

/// The last line's length: the word, a 16-digit checksum, the line end.
const SEAL_LINE: u64 = (SEALED.len() + 16 + 1) as u64;

/// Journal bytes written per call after the first line (which has a call of its own), so
/// that a crash can cut a journal anywhere, as a power cut could.
const PIECE: usize = 1 << 16;

/// What changed in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A scoring: recovery rolls it back.
    Scoring,
    /// An undo: recovery finishes it.
    Undo,
}

impl Kind {
    fn word(self) -> &'static str {
        match self {
            Kind::Scoring => "score",
            Kind::Undo => "undo",
        }
    }

    /// The side of each patch recovery writes.
    fn target(self) -> Side {
        match self {
            Kind::Scoring => Side::Old,
            Kind::Undo => Side::New,
        }
    }

    /// What recovery tells the analyst it did.
    fn note(self, journal: &Path) -> RecoveryNote {
        let journal = journal.to_path_buf();
        match self {
            Kind::Scoring => RecoveryNote::ScoringRolledBack { journal },
            Kind::Undo => RecoveryNote::UndoDropped { journal },
        }
    }
}

/// A change in place, as its journal records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Change {
    pub kind: Kind,
    /// The flow file's length (a change in place keeps it).
    pub flow_len: u64,
    /// The feedback file as recovery leaves it: its length, and whether it exists.
    pub feedback: FeedbackBefore,
    /// Every byte changed, ascending by offset.
    pub patches: Vec<Patch>,
}

/// Writes the journal of `change` whole, seals it and makes it durable, in a new file with
/// `model`'s ownership (recovery removed any earlier journal; one still there is an error).
pub(crate) fn write(
    path: &Path,
    dir: &Path,
    change: &Change,
    model: Option<&Ownership>,
) -> Result<(), Error> {
    let mut file = create_new_like(path, model)?;
    let text = journal_text(change);
    let first_line = text.find('\n').map_or(text.len(), |end| end + 1);
    let (first, rest) = text.as_bytes().split_at(first_line);
    for piece in std::iter::once(first).chain(rest.chunks(PIECE)) {
        file.write_all(piece)
            .map_err(|e| Error::io(path, "writing the journal", e))?;
        crash_point::reached();
    }
    file.sync_all()
        .map_err(|e| Error::io(path, "writing the journal", e))?;
    crash_point::reached();
    sync_dir(dir)?;
    crash_point::reached();
    Ok(())
}

/// The journal's text: a checksummed first line, one line per patch, and the seal (a
/// checksum of everything before it).
fn journal_text(change: &Change) -> String {
    let first = format!(
        "{MAGIC} {} {} {} {}",
        change.kind.word(),
        change.flow_len,
        change.feedback.to_words(),
        change.patches.len()
    );
    let mut text = format!("{first} {:016x}\n", checksum(first.as_bytes()));
    for patch in &change.patches {
        let _ = writeln!(text, "{} {:02x}{:02x}", patch.at, patch.old, patch.new);
    }
    let seal = checksum(text.as_bytes());
    let _ = writeln!(text, "{SEALED}{seal:016x}");
    text
}

/// What a journal file holds, when it is the journal of a change in place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Found {
    /// Not sealed (a crash while it was written): neither day file was touched.
    Unsealed(Kind),
    /// Sealed: the change is to be brought to its target.
    Sealed(Change),
    /// Closed: the change is complete; only the journal is left to remove.
    Closed,
}

impl Found {
    /// The bytes a reader sees instead of the file's own until recovery has run.
    pub fn overlay(&self) -> Overlay {
        match self {
            Found::Unsealed(_) | Found::Closed => Overlay::new(),
            Found::Sealed(change) => patch::overlay(&change.patches, change.kind.target()),
        }
    }

    /// Whether recovery has something to do to the day files (or to tell) about it.
    pub fn is_pending(&self) -> bool {
        !matches!(self, Found::Closed)
    }
}

/// Reads the journal at `path`: `None` when there is none or it is not the journal of a
/// change in place (a scoring by rename has its own, [`super::scoring_journal`]).
pub(crate) fn read(path: &Path) -> Result<Option<Found>, Error> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(path, "reading the journal", e)),
    };
    let Some(rest) = bytes.strip_prefix(format!("{MAGIC} ").as_bytes()) else {
        return Ok(None);
    };
    // Even a journal cut in its first line says which kind it was.
    let kind = if rest.starts_with(b"undo") {
        Kind::Undo
    } else {
        Kind::Scoring
    };
    Ok(Some(match sealed_text(&bytes) {
        Some((body, false)) => Found::Sealed(parse(body, path)?),
        Some((_, true)) => Found::Closed,
        None => Found::Unsealed(kind),
    }))
}

/// The journal's text before its last line, and whether it is closed, if the last line is
/// there whole and its checksum is right.
fn sealed_text(bytes: &[u8]) -> Option<(&str, bool)> {
    let text = std::str::from_utf8(bytes).ok()?;
    let body_end = text.strip_suffix('\n')?.rfind('\n')? + 1;
    let (body, seal_line) = text.split_at(body_end);
    let (closed, seal) = match seal_line.strip_prefix(SEALED) {
        Some(seal) => (false, seal),
        None => (true, seal_line.strip_prefix(CLOSED)?),
    };
    let seal = u64::from_str_radix(seal.strip_suffix('\n')?, 16).ok()?;
    (seal == checksum(body.as_bytes())).then_some((body, closed))
}

/// Reads a sealed journal's text.
fn parse(text: &str, path: &Path) -> Result<Change, Error> {
    let broken = |reason: &str| Error::Journal {
        path: path.to_path_buf(),
        reason: reason.to_owned(),
    };
    let mut lines = text.lines();
    let first = lines
        .next()
        .and_then(checked_body)
        .ok_or_else(|| broken("its first line is damaged"))?;
    let mut words = first.split(' ').skip(1);
    let kind = match words.next() {
        Some("score") => Kind::Scoring,
        Some("undo") => Kind::Undo,
        _ => return Err(broken("unknown kind of change")),
    };
    let flow_len = words.next().and_then(|word| word.parse().ok());
    let feedback = FeedbackBefore::from_words(&mut words);
    let count: Option<usize> = words.next().and_then(|word| word.parse().ok());
    let (Some(flow_len), Some(feedback), Some(count), None) =
        (flow_len, feedback, count, words.next())
    else {
        return Err(broken("its first line is not understood"));
    };
    let patches = lines
        .map(parse_patch)
        .collect::<Option<Vec<Patch>>>()
        .filter(|patches| patches.len() == count)
        .ok_or_else(|| broken("its list of bytes is not understood"))?;
    Ok(Change {
        kind,
        flow_len,
        feedback,
        patches,
    })
}

/// `<offset> <old><new>`, the two bytes in hexadecimal.
fn parse_patch(line: &str) -> Option<Patch> {
    let (at, bytes) = line.split_once(' ')?;
    if bytes.len() != 4 {
        return None;
    }
    Some(Patch {
        at: at.parse().ok()?,
        old: u8::from_str_radix(bytes.get(..2)?, 16).ok()?,
        new: u8::from_str_radix(bytes.get(2..)?, 16).ok()?,
    })
}

/// `flow_scores.csv` open for changing in place, with the flows' own lock held exclusive (so
/// no reader is reading it meanwhile; see [`crate::io::lock`]). Taken with the day's lock held.
pub(crate) struct OwnedFlows {
    pub file: File,
}

impl OwnedFlows {
    /// Opens the flows for writing in place, waiting (at most the day's lock wait) for their
    /// readers. A linked `flow_scores.csv` is refused, as every writer refuses it.
    pub fn open(paths: &DayPaths) -> Result<OwnedFlows, Error> {
        Ownership::replaced(&paths.flow)?;
        let path = &paths.flow;
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(|e| Error::io(path, "opening for writing in place", e))?;
        own_flows(&file, path, paths.lock_wait)?;
        Ok(OwnedFlows { file })
    }
}

/// Brings both day files to the target of `change` (see the module docs), then closes and
/// removes its journal: recovery of a sealed journal, the roll back of a scoring that failed
/// half way, and the end of every undo in place. Returns what the feedback's cut found (a
/// feedback file gone or shorter than recorded).
pub(crate) fn bring_to_target(
    flows: &OwnedFlows,
    paths: &DayPaths,
    change: &Change,
) -> Result<Option<RecoveryNote>, Error> {
    check_fits(flows, paths, change)?;
    patch::write(
        &flows.file,
        &paths.flow,
        &change.patches,
        change.kind.target(),
    )?;
    let found = roll_back_feedback(&paths.feedback, change.feedback)?;
    crash_point::reached();
    close(paths)?;
    Ok(found)
}

/// Refuses a journal that does not fit the flow file (see the module docs).
fn check_fits(flows: &OwnedFlows, paths: &DayPaths, change: &Change) -> Result<(), Error> {
    let mismatch = |reason: String| Error::JournalMismatch {
        journal: paths.journal.clone(),
        file: paths.flow.clone(),
        reason,
    };
    let len = flows
        .file
        .metadata()
        .map_err(|e| Error::io(&paths.flow, "looking at", e))?
        .len();
    if len != change.flow_len {
        return Err(mismatch(format!(
            "it has {len} bytes where the journal recorded {}",
            change.flow_len
        )));
    }
    match patch::first_misfit(&flows.file, &paths.flow, &change.patches)? {
        None => Ok(()),
        Some((patch, found)) => Err(mismatch(format!(
            "byte {} is {}, neither {:?} nor {:?}",
            patch.at,
            found.map_or("past the end".to_owned(), |byte| format!(
                "{:?}",
                char::from(byte)
            )),
            char::from(patch.old),
            char::from(patch.new)
        ))),
    }
}

/// Completes the change of a sealed journal, once both day files are durable: its seal is
/// overwritten with the closing word and flushed, then the journal is removed (a removal a
/// crash undoes leaves a closed journal, which the next recovery removes).
pub(crate) fn close(paths: &DayPaths) -> Result<(), Error> {
    let path = &paths.journal;
    let closing = (|| {
        let file = OpenOptions::new().write(true).open(path)?;
        let seal_at = file.metadata()?.len().saturating_sub(SEAL_LINE);
        file.write_all_at(CLOSED.as_bytes(), seal_at)?;
        crash_point::reached();
        file.sync_data()
    })();
    closing.map_err(|e| Error::io(path, "closing the journal", e))?;
    crash_point::reached();
    remove_if_present(path)?;
    crash_point::reached();
    Ok(())
}

/// Removes a journal that is not sealed (nothing was touched) or closed (all was done), and
/// makes the removal durable.
fn remove(paths: &DayPaths) -> Result<(), Error> {
    remove_if_present(&paths.journal)?;
    crash_point::reached();
    sync_dir(&paths.dir)?;
    crash_point::reached();
    Ok(())
}

/// Recovers a change in place a crash interrupted, if the journal is one, and notes what it
/// did; `false` when there is no journal or it is another kind. Called with the day's lock
/// held.
pub(crate) fn recover(paths: &DayPaths, notes: &mut Vec<RecoveryNote>) -> Result<bool, Error> {
    let Some(found) = read(&paths.journal)? else {
        return Ok(false);
    };
    match found {
        Found::Unsealed(kind) => {
            remove(paths)?;
            notes.push(kind.note(&paths.journal));
        }
        Found::Closed => remove(paths)?,
        Found::Sealed(change) => {
            let flows = OwnedFlows::open(paths)?;
            notes.extend(bring_to_target(&flows, paths, &change)?);
            notes.push(match change.kind {
                Kind::Scoring => change.kind.note(&paths.journal),
                Kind::Undo => RecoveryNote::UndoFinished {
                    journal: paths.journal.clone(),
                },
            });
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(kind: Kind) -> Change {
        Change {
            kind,
            flow_len: 12,
            feedback: FeedbackBefore {
                len: 5,
                existed: true,
            },
            patches: vec![
                Patch {
                    at: 0,
                    old: b'0',
                    new: b'3',
                },
                Patch {
                    at: 8,
                    old: b'1',
                    new: b'3',
                },
            ],
        }
    }

    #[test]
    fn a_journal_reads_back_sealed_and_any_cut_reads_as_unsealed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        for kind in [Kind::Scoring, Kind::Undo] {
            let _ = fs::remove_file(&path);
            write(&path, dir.path(), &change(kind), None).unwrap();
            assert_eq!(read(&path).unwrap(), Some(Found::Sealed(change(kind))));
            let whole = fs::read(&path).unwrap();
            for cut in MAGIC.len() + 1 + kind.word().len()..whole.len() {
                fs::write(&path, &whole[..cut]).unwrap();
                assert_eq!(
                    read(&path).unwrap(),
                    Some(Found::Unsealed(kind)),
                    "cut {cut}"
                );
            }
        }
    }

    #[test]
    fn a_closed_journal_reads_back_closed() {
        let dir = tempfile::tempdir().unwrap();
        let paths = DayPaths::for_day_folder(dir.path());
        write(&paths.journal, dir.path(), &change(Kind::Scoring), None).unwrap();
        let sealed = fs::read(&paths.journal).unwrap();
        let file = OpenOptions::new().write(true).open(&paths.journal).unwrap();
        file.write_all_at(CLOSED.as_bytes(), sealed.len() as u64 - SEAL_LINE)
            .unwrap();
        assert_eq!(read(&paths.journal).unwrap(), Some(Found::Closed));
        assert!(!Found::Closed.is_pending());
        fs::write(&paths.journal, &sealed).unwrap();
        close(&paths).unwrap();
        assert!(!paths.journal.exists());
    }

    #[test]
    fn a_scoring_journal_by_rename_is_not_read_as_one_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        crate::day::recovery::scoring_journal::Journal::begin(
            &path,
            dir.path(),
            FeedbackBefore {
                len: 0,
                existed: false,
            },
            None,
        )
        .unwrap();
        assert_eq!(read(&path).unwrap(), None);
    }

    #[test]
    fn a_reader_sees_the_old_bytes_of_a_scoring_and_the_new_bytes_of_an_undo() {
        let scoring = Found::Sealed(change(Kind::Scoring));
        assert_eq!(scoring.overlay(), vec![(0, b'0'), (8, b'1')]);
        let undo = Found::Sealed(change(Kind::Undo));
        assert_eq!(undo.overlay(), vec![(0, b'3'), (8, b'3')]);
        assert!(Found::Unsealed(Kind::Undo).overlay().is_empty());
    }
}
