//! What can be wrong with a line of a context file, and the warning that says where.
//!
//! A bad line never stops the panel: it is skipped, and the warning names the file, the line
//! and, when one column is at fault, the column, so the analyst can fix the file.

use std::fmt;

use crate::analysis::cidr::NetError;
use crate::error::Position;

/// Why a line of a context file was skipped (or, for the last two, why reading stopped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineProblem {
    /// The line is longer than the limit (in bytes).
    TooLong { limit: usize },
    /// The line is not UTF-8 text.
    InvalidUtf8,
    /// A quoted field is not closed on its line.
    UnclosedQuote,
    /// A closing quote is followed by something other than a comma.
    TextAfterQuote,
    /// The first line is neither the header nor an entry.
    NotHeaderNorEntry { found: String },
    /// The first field is not an address or a network.
    Network(NetError),
    /// One end of a range `first-last` is not an address.
    RangeEnd { range: String, end: String },
    /// A range goes from a higher to a lower address, or across IPv4 and IPv6.
    RangeBackwards { range: String },
    /// No name after the address.
    NoName,
    /// The file holds more entries than the limit: this line and the rest are ignored.
    TooManyEntries { limit: usize },
    /// The file is larger than the limit (in bytes): this line and the rest are ignored.
    FileTooLarge { limit: u64 },
}

impl fmt::Display for LineProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LineProblem::TooLong { limit } => {
                write!(f, "the line is longer than {limit} bytes")
            }
            LineProblem::InvalidUtf8 => write!(f, "the line is not valid UTF-8"),
            LineProblem::UnclosedQuote => write!(f, "a quoted field is not closed on its line"),
            LineProblem::TextAfterQuote => {
                write!(
                    f,
                    "text after a closing quote; double quotes inside a field"
                )
            }
            LineProblem::NotHeaderNorEntry { found } => write!(
                f,
                "{found:?} is neither the header `ip,name` (or `srcIP,name`) nor an address, \
                 network or range"
            ),
            LineProblem::Network(error) => write!(f, "{error}"),
            LineProblem::RangeEnd { range, end } => {
                write!(f, "{end:?} is not an address in range {range:?}")
            }
            LineProblem::RangeBackwards { range } => write!(
                f,
                "{range:?} is not a range from a lower to a higher address of one family"
            ),
            LineProblem::NoName => write!(f, "no name after the address; write `address,name`"),
            LineProblem::TooManyEntries { limit } => write!(
                f,
                "more than {limit} entries; this line and the rest of the file are ignored"
            ),
            LineProblem::FileTooLarge { limit } => write!(
                f,
                "the file is larger than {} MiB; this line and the rest of the file are ignored",
                limit >> 20
            ),
        }
    }
}

/// A line of a context file that was skipped, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextWarning {
    /// The file, the line and, when one column is at fault, the column.
    pub at: Position,
    /// What is wrong.
    pub problem: LineProblem,
}

impl LineProblem {
    /// True when the problem skips its line only; false when the rest of the file is ignored.
    pub fn skips_one_line(&self) -> bool {
        !matches!(
            self,
            LineProblem::TooManyEntries { .. } | LineProblem::FileTooLarge { .. }
        )
    }
}

impl fmt::Display for ContextWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.at, self.problem)?;
        if self.problem.skips_one_line() {
            f.write_str(" (line skipped)")?;
        }
        Ok(())
    }
}
