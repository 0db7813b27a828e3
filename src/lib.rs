//! # flow-edge: the Flow Edge Investigation notebook of Apache Spot, in Rust
//!
//! An analyst opens a day of suspicious network flows (`flow_scores.csv`,
//! ranked by an LDA model), narrows them down with listboxes or a quick IP,
//! gives the matching connections a severity (1 high, 2 medium, 3 low), saves,
//! and ships the scored rows (`flow_scores_fb.csv`) back to the ML side.
//!
//! ```no_run
//! # fn main() -> Result<(), flow_edge::Error> {
//! use flow_edge::{Day, Selection};
//!
//! let day = Day::open("/srv/oa/data/flow/20160708")?;
//! let lists = day.listbox_values()?;              // the first `coff` rows only
//! println!("{} source IPs to look at", lists.src_ips.len());
//! let scored = day.score(&Selection::new().quick_ip("10.0.0.5"), 1)?;
//! println!("{} matching connections scored", scored.scored);
//! day.save_and_sort()?;                            // unscored first, most suspicious on top
//! # Ok(()) }
//! ```
//!
//! ## Concepts
//!
//! * [`Day`]: the files of one day ([`DayPaths`]) and the notebook's
//!   [`Settings`]. Every operation is a method of it.
//! * [`Schema`] and [`Column`]: columns are found by header name, in any order,
//!   20- or 22-column files, unknown columns kept.
//! * [`Row`]: the decoded view of one row, with its line number for errors.
//! * [`Day::update_severities`]: the write path that rewrites the day (rules
//!   use it; scoring writes its bytes in place, see below).
//! * [`Error`]: one error type; content errors name file, line and column.
//! * [`Panel`] (`day.panel()`): the notebook's scoring panel, live widgets under the
//!   flow-edge kernel, the listbox values and method calls in the evcxr REPL
//!   (see [`panel`]).
//!
//! ## Data safety
//!
//! A crash at any instant leaves the day as it was before an operation or as
//! it is after it, never between; what recovery found is told
//! ([`Day::recovery_notes`], warnings from the command line). One writer at a
//! time holds an advisory lock on `flow_scores.csv.lock` (across processes),
//! recovers whatever a crash interrupted, and re-reads the file under it, so
//! two notebooks scoring at once both get their scorings in.
//!
//! *Scoring and undo write in place.* A severity is one byte: a scoring
//! writes the rated rows' `sev` bytes where they are, an undo writes the old
//! ones back, and nothing else of the day is written. A scoring also appends
//! the rows to the feedback file. Before either file is touched, a journal
//! (`flow_scores.csv.journal`) listing every byte's offset, old and new value,
//! and the feedback file's length to come back to, is written, sealed with a
//! checksum and fsynced with its folder; once both files are fsynced, its seal
//! is overwritten with `closed` (fsynced) and it is removed. A crash before the
//! seal touched nothing; between seal and close, the next writer rolls an
//! interrupted scoring back (old bytes, feedback cut back to its length) and
//! finishes an interrupted undo (which the sealed journal decided); after the
//! close, it only removes the journal. So a scoring is in both files or in
//! neither, each completed scoring is in the feedback file once, and the
//! feedback file never keeps a torn line. A matching `sev` that is not one
//! byte (written in quotes) makes the scoring rewrite the day instead, as
//! below.
//!
//! *Every other change writes a new version.* Rules, save-and-sort and restore
//! copy rows byte for byte to a temporary file, fsync it and replace
//! `flow_scores.csv` by an atomic rename, so a crash leaves the old or the new
//! version. Rules that feed back use the journal's older form (written before
//! the append, marked "prepared" before the rename).
//!
//! *Readers never see a change half made.* Every read (listboxes, rows,
//! heuristics, the panel's index) holds a shared `flock` on the
//! `flow_scores.csv` it opened for as long as it reads, and a change in place
//! holds it exclusive while it writes, so each read sees one state; writers
//! that rename do not wait for readers, who keep reading the version they
//! opened. A read that finds a journal a crash left reads the flows as
//! recovery will leave them (the journal's bytes laid over the file's) and
//! says recovery is pending. See `src/io/lock.rs` and
//! `src/day/recovery/patch_journal.rs`.
//!
//! ## Shared days
//!
//! Every file the engine writes keeps the mode, and where the process may
//! the owner and group, of the file it replaces; new files (the backup, a
//! first feedback file, the journals, the lock file) take those of
//! `flow_scores.csv`. A `flow_scores.csv` that is a symbolic link is refused
//! by every writer ([`Error::LinkedFile`]): renaming over it would replace
//! the link. [`Day::open_read_only`] needs read access only and writes
//! nothing: it takes the day's lock shared, only while it picks the version
//! to read (the one recovery of an interrupted operation would leave), then
//! the flows' own lock as every read does. Every wait for a lock is bounded
//! ([`DayPaths::lock_wait`], 30 s by default); [`Error::Locked`] names the
//! holder's pid, command and time held.
//!
//! ## The feedback file
//!
//! `flow_scores_fb.csv` is what the ML side (`FlowPreLDA.scala` in spot-ml)
//! reads back: one header line, then the scored rows, tab-separated, no
//! quoting, `\n` line ends, fields as decoded text. A tab, carriage return or
//! line feed inside a field is written as a space, so a row is always one
//! line with one field per column. Columns are in the canonical OA order
//! (`sev, tstart, srcIP, dstIP, sport, dport, proto, flag, ipkt, ibyt, ...`),
//! whatever the order in `flow_scores.csv`, because FlowPreLDA reads fields by
//! position (it keeps rows with exactly 22 fields and `sev == 3`, and reads
//! `tstart`, `srcIP`, `dstIP`, `sport`, `dport`, `ipkt`, `ibyt` at positions
//! 1 to 5, 8 and 9). Unknown columns come last. An existing feedback file's
//! header decides the order. Rows of a 20-column day have 20 fields, which
//! FlowPreLDA ignores, as it ignored the original notebook's.
//!
//! ## Fixed on purpose (compared with the original notebook)
//!
//! * A row matched by both quick-IP branches is scored and fed back once.
//! * The header is kept as it is (the original wrote a fixed 20-column header
//!   over 22-column files), and rows keep their bytes (the original re-quoted
//!   every field and turned line ends into CRLF).
//! * Unscored rows are sorted by `lda_score` (the original sorted by `rank`,
//!   scored rows included); scored groups keep their order.
//! * IPv6 addresses work in the listboxes (the original crashed on them).
//! * A field holding a double quote, tab or line break is fed back (the
//!   original's feedback writer raised in the middle of the append, leaving
//!   the feedback half written and the flow file unscored).
//! * Files are changed under a lock, with fsync, in place under a journal or
//!   replaced atomically (the original copied over them with
//!   `shutil.copyfile`).
//! * A scoring that matches nothing changes no file (the original rewrote the
//!   flow file and created the feedback file with its header).
//! * Bad input is an error with its position, and nothing changes.

// The layers, bottom up: each uses only the layers above it in this list (and `error`).

/// One error type for every layer.
mod error;

/// File I/O: durable writes, atomic replacement, mapped reads.
mod io;

/// The CSV stack: splitter, SIMD scanner, records, block passes, schema, rows.
mod csv;

/// A day and every operation on it: scoring, feedback, undo, save and sort, recovery.
mod day;

/// Rules, attack heuristics, pages of connections, network context.
pub mod analysis;
/// Spot's configuration and the feedback upload to the ML node.
pub mod spot;

/// What the analyst sees: HTML and text views, and the investigation panel (feature `panel`).
#[cfg(feature = "panel")]
pub mod panel;
pub mod views;

/// Seeded sample days for tests, benchmarks and demos.
pub mod synthetic;

pub use analysis::connections::{Connection, ConnectionPage};
pub use analysis::context::NetworkContext;
pub use analysis::heuristics::{attack_heuristics, FanOut, Heuristics};
pub use analysis::rules::{apply_rules, ApplyOptions, RuleSet, RulesReport};
pub use csv::row::Row;
pub use csv::schema::{Column, Schema};
pub use day::paths::{DayPaths, Settings, DEFAULT_COFF, DEFAULT_LOCK_WAIT};
pub use day::recovery::RecoveryNote;
pub use day::selection::{Matcher, Selection};
pub use day::sort::SortReport;
pub use day::update::UpdateReport;
pub use day::{Day, ListboxValues, ScoreReport, ScoringRecord, UndoError};
pub use error::{Error, LockHolder, Position, Problem};
#[cfg(feature = "panel")]
pub use panel::{Panel, PanelOptions};
