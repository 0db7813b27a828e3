//! The one error type of the engine.
//!
//! Every error an analyst can cause or meet says *where*: the file, and for bad
//! content the line (1-based, counting physical lines) and the column (1-based
//! field number, with the column's name from the header when it has one), in
//! the `file:line:column` form editors and terminals understand.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Everything that can go wrong in the engine.
#[derive(Debug)]
pub enum Error {
    /// A file system operation failed.
    Io {
        /// The file or folder involved.
        path: PathBuf,
        /// What the engine was doing, in words ("reading", "renaming into place", ...).
        action: &'static str,
        /// The operating system's error.
        source: io::Error,
    },
    /// The content of a file is not what the engine can work on.
    Content {
        /// Where the problem is.
        at: Position,
        /// What the problem is.
        problem: Problem,
    },
    /// The selection to score does not name anything to match, or names something
    /// that cannot be in the file (a quick IP that is not an address, a port that
    /// is not a number).
    Selection(String),
    /// A rating outside 1..=3 was given to `score`.
    Rating(u8),
    /// A decision callback of `update_severities` returned a severity above 3.
    Severity {
        /// Where the row is.
        at: Position,
        /// The severity that was asked for.
        value: u8,
    },
    /// The folder is not a notebook folder of the `<oa>/ipynb/<source>/<date>/` form.
    NotANotebookFolder(PathBuf),
    /// A recovery journal left by an interrupted operation cannot be understood,
    /// so the engine refuses to guess which version of the files is right.
    Journal {
        /// The journal file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The journal of an in-place change a crash interrupted does not fit the file it is
    /// about: something other than flow-edge changed or replaced `flow_scores.csv` since, so
    /// recovery refuses to write the journal's bytes into it and every writer stops there
    /// until someone who knows what happened decides.
    JournalMismatch {
        /// The journal file.
        journal: PathBuf,
        /// The file it is about.
        file: PathBuf,
        /// What does not fit.
        reason: String,
    },
    /// The day's lock stayed taken for as long as the operation was allowed to wait
    /// ([`crate::DayPaths::lock_wait`]): another operation is under way, or stuck.
    Locked {
        /// The lock file.
        path: PathBuf,
        /// How long the operation waited.
        waited: Duration,
        /// Who holds the lock, as far as can be told (empty when that cannot be told).
        holders: Vec<LockHolder>,
    },
    /// A file the engine replaces by renaming a new version over it is a symbolic link: the
    /// rename would replace the link, not the file it points to, so nothing is written.
    LinkedFile {
        /// The link (`flow_scores.csv`).
        link: PathBuf,
        /// Where it points.
        target: PathBuf,
    },
}

/// A process that holds a day's lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockHolder {
    /// Its process id.
    pub pid: u32,
    /// Its command line, when it can be told.
    pub command: Option<String>,
    /// When it took the lock, when it recorded that (flow-edge operations do).
    pub since: Option<SystemTime>,
}

impl fmt::Display for LockHolder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pid {}", self.pid)?;
        if let Some(command) = &self.command {
            write!(f, " ({command})")?;
        }
        if let Some(held) = self.since.and_then(|since| since.elapsed().ok()) {
            write!(f, ", holding it for {} s", held.as_secs())?;
        }
        Ok(())
    }
}

/// A place in a file: always the file, usually a line, sometimes a column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    /// The file.
    pub path: PathBuf,
    /// 1-based line number, 0 when the problem concerns the whole file.
    pub line: u64,
    /// 1-based field number, if the problem is in one field.
    pub column: Option<usize>,
    /// The name of that field's column, when the header names it.
    pub column_name: Option<String>,
}

impl Position {
    /// A position covering a whole line (or the whole file when `line` is 0).
    pub fn line(path: &Path, line: u64) -> Position {
        Position {
            path: path.to_path_buf(),
            line,
            column: None,
            column_name: None,
        }
    }

    /// A position naming a field (1-based `column`) of a line.
    pub fn field(path: &Path, line: u64, column: usize, column_name: Option<&str>) -> Position {
        Position {
            path: path.to_path_buf(),
            line,
            column: Some(column),
            column_name: column_name.map(str::to_owned),
        }
    }
}

/// What is wrong with a file's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The file has no bytes at all, so not even a header.
    EmptyFile,
    /// A quoted field is still open at the end of the file.
    UnterminatedQuote,
    /// A quote appears where RFC 4180 does not allow one (inside an unquoted
    /// field, or after the closing quote of a quoted field).
    StrayQuote,
    /// A carriage return not followed by a line feed, outside quotes.
    BareCarriageReturn,
    /// The bytes are not UTF-8.
    InvalidUtf8,
    /// A line is empty.
    EmptyLine,
    /// A row has a different number of fields than the header.
    RaggedRow {
        /// Fields in the header.
        expected: usize,
        /// Fields in this row.
        found: usize,
    },
    /// The header lacks a column the engine needs.
    MissingColumn(&'static str),
    /// The header names a column twice.
    DuplicateColumn(String),
    /// A `sev` field that is not 0, 1, 2 or 3.
    NotASeverity(String),
    /// A port field that is not an integer in 0..=65535.
    NotAPort(String),
    /// A field that should be an integer.
    NotAnInteger(String),
    /// A field that should be a number.
    NotANumber(String),
    /// The feedback file's header does not hold the same columns as the flow file.
    FeedbackColumns {
        /// The flow file's column names, in feedback order.
        expected: String,
        /// The feedback file's header line.
        found: String,
    },
    /// The feedback file's last line has no line end, so appending would glue a
    /// row onto it.
    UnfinishedFeedbackLine,
}

impl Error {
    /// Wraps an I/O error with the file and the action that failed.
    pub fn io(path: &Path, action: &'static str, source: io::Error) -> Error {
        Error::Io {
            path: path.to_path_buf(),
            action,
            source,
        }
    }

    /// A content error at a position.
    pub fn content(at: Position, problem: Problem) -> Error {
        Error::Content { at, problem }
    }

    /// The content problem, if this is a content error (handy in tests and for
    /// callers that react to one kind of problem).
    pub fn problem(&self) -> Option<&Problem> {
        match self {
            Error::Content { problem, .. } => Some(problem),
            _ => None,
        }
    }

    /// Where the error is, if it concerns a place in a file.
    pub fn position(&self) -> Option<&Position> {
        match self {
            Error::Content { at, .. } | Error::Severity { at, .. } => Some(at),
            _ => None,
        }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        if let Some(name) = &self.column_name {
            write!(f, " (column {name})")?;
        }
        Ok(())
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::EmptyFile => write!(f, "the file is empty; a header line is needed"),
            Problem::UnterminatedQuote => {
                write!(f, "a quoted field is not closed before the end of the file")
            }
            Problem::StrayQuote => write!(
                f,
                "a quote inside a field; quote the whole field and double inner quotes"
            ),
            Problem::BareCarriageReturn => {
                write!(f, "a carriage return without a line feed after it")
            }
            Problem::InvalidUtf8 => write!(f, "the text is not valid UTF-8"),
            Problem::EmptyLine => write!(f, "an empty line where a row was expected"),
            Problem::RaggedRow { expected, found } => write!(
                f,
                "the row has {found} fields but the header has {expected}"
            ),
            Problem::MissingColumn(name) => {
                write!(f, "the header has no column named {name:?}")
            }
            Problem::DuplicateColumn(name) => {
                write!(f, "the header names column {name:?} more than once")
            }
            Problem::NotASeverity(text) => {
                write!(f, "{text:?} is not a severity (0, 1, 2 or 3)")
            }
            Problem::NotAPort(text) => write!(f, "{text:?} is not a port (0 to 65535)"),
            Problem::NotAnInteger(text) => write!(f, "{text:?} is not an integer"),
            Problem::NotANumber(text) => write!(f, "{text:?} is not a number"),
            Problem::FeedbackColumns { expected, found } => write!(
                f,
                "the feedback header is {found:?} but the flow file's columns are {expected:?}"
            ),
            Problem::UnfinishedFeedbackLine => write!(
                f,
                "the last line has no line end (an interrupted write by another tool?); \
                 finish or remove it before scoring"
            ),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io {
                path,
                action,
                source,
            } => write!(f, "{}: {action}: {source}", path.display()),
            Error::Content { at, problem } => write!(f, "{at}: {problem}"),
            Error::Selection(reason) => write!(f, "nothing scored: {reason}"),
            Error::Rating(rating) => {
                write!(f, "nothing scored: rating {rating} is not 1, 2 or 3")
            }
            Error::Severity { at, value } => write!(
                f,
                "{at}: severity {value} asked for, but severities are 0, 1, 2 or 3; nothing changed"
            ),
            Error::NotANotebookFolder(path) => write!(
                f,
                "{}: not a notebook folder; expected <oa>/ipynb/<source>/<date>",
                path.display()
            ),
            Error::Journal { path, reason } => write!(
                f,
                "{}: recovery journal of an interrupted operation is unreadable ({reason}); \
                 nothing was changed",
                path.display()
            ),
            Error::JournalMismatch {
                journal,
                file,
                reason,
            } => write!(
                f,
                "{}: the journal of an interrupted scoring or undo does not fit {} ({reason}), \
                 so that file was changed by something other than flow-edge since; nothing was \
                 changed (compare the file with flow_scores_bu.csv, then remove the journal)",
                journal.display(),
                file.display()
            ),
            Error::Locked {
                path,
                waited,
                holders,
            } => {
                write!(f, "{}: the day is busy: ", path.display())?;
                if holders.is_empty() {
                    write!(f, "another process holds its lock")?;
                } else {
                    write!(f, "its lock is held by ")?;
                    for (at, holder) in holders.iter().enumerate() {
                        if at > 0 {
                            write!(f, ", ")?;
                        }
                        write!(f, "{holder}")?;
                    }
                }
                write!(
                    f,
                    "; gave up after waiting {:.1} s, nothing was changed (try again once it is \
                     done)",
                    waited.as_secs_f64()
                )
            }
            Error::LinkedFile { link, target } => write!(
                f,
                "{}: is a symbolic link to {}; flow-edge writes a new version beside the file \
                 and renames it into place, which would replace the link rather than the file \
                 it points to, so nothing was changed (move the file into the day folder, or \
                 link the whole day folder instead)",
                link.display(),
                target.display()
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
