//! The network context (`nwloc`): names for the analyst's own addresses and networks.
//!
//! A comma-separated file (`<oa>/context/networkcontext.csv` by default), one entry per line,
//! with or without a header line `ip,name` (`srcIP,name`, the name Spot's context README gives
//! the first column, is accepted too). Spot's install guide writes it without a header and
//! with a space after the comma; both forms read the same:
//!
//! ```text
//! 10.192.180.150, AnyMachine
//! 10.0.0.0/8,Corporate network
//! 192.0.54.0-192.0.54.254,Lab
//! 2001:db8::/32,"Branch office, IPv6"
//! ```
//!
//! The first field is an address, a CIDR network or an inclusive range `first-last` (the forms
//! the Spot context README lists), IPv4 or IPv6; the second is the name (quoted when it holds
//! a comma; spaces around fields are dropped; further columns are ignored). When several
//! entries hold an address the one covering the fewest addresses wins, and among equally wide
//! ones the later line, as the original's dictionary did (see `table.rs` for why).
//!
//! A malformed line is skipped with a [`ContextWarning`] naming the file, the line and the
//! column; the other lines still name their addresses, and the panel shows the warnings once
//! above its listboxes. A missing file is not a problem either: the context is empty and
//! [`NetworkContext::note`] says so. Only a file that exists and cannot be read is an error.
//!
//! Hostile input is bounded: at most [`MAX_FILE_BYTES`] of the file are read, lines longer than
//! [`MAX_LINE_BYTES`] are skipped, at most [`MAX_ENTRIES`] entries are kept, and at most
//! [`MAX_WARNINGS`] warnings are listed (the rest are counted).

mod line;
mod table;
mod warning;

pub use warning::{ContextWarning, LineProblem};

use std::fmt;
use std::io::Read;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::Position;
use crate::Day;
use line::Line;
use table::{Builder, Table};

/// The most bytes of a context file read (a 100,000-entry file is about 4 MiB).
pub const MAX_FILE_BYTES: u64 = 16 << 20;
/// The longest line read, in bytes; a longer one is skipped with a warning.
pub const MAX_LINE_BYTES: usize = 4096;
/// The most entries kept; the lines after are ignored with a warning.
pub const MAX_ENTRIES: usize = 200_000;
/// The most warnings listed; the others are counted in [`NetworkContext::warning_lines`].
pub const MAX_WARNINGS: usize = 20;

/// Names for addresses, looked up by the most specific entry. Clones share the table.
#[derive(Debug, Clone, Default)]
pub struct NetworkContext {
    loaded: Arc<Loaded>,
}

#[derive(Debug, Default)]
struct Loaded {
    table: Table,
    entries: usize,
    path: PathBuf,
    note: Option<String>,
    warnings: Vec<ContextWarning>,
    /// Warnings beyond [`MAX_WARNINGS`], counted only.
    unlisted: u64,
}

/// Why a context file cannot be used.
#[derive(Debug)]
pub enum ContextError {
    /// The file exists but cannot be read.
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl fmt::Display for ContextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ContextError::Io { path, source } => {
                write!(
                    f,
                    "{}: cannot read the network context: {source}",
                    path.display()
                )
            }
        }
    }
}

impl std::error::Error for ContextError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ContextError::Io { source, .. } => Some(source),
        }
    }
}

impl NetworkContext {
    /// An empty context (no names).
    pub fn empty() -> NetworkContext {
        NetworkContext::default()
    }

    /// Reads a context file (at most [`MAX_FILE_BYTES`] of it); a missing file gives an empty
    /// context with a note, malformed lines give warnings.
    pub fn load(path: &Path) -> Result<NetworkContext, ContextError> {
        let io_error = |source| ContextError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = match std::fs::File::open(path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(NetworkContext {
                    loaded: Arc::new(Loaded {
                        path: path.to_path_buf(),
                        note: Some(format!(
                            "no network context at {}; addresses are shown without names",
                            path.display()
                        )),
                        ..Loaded::default()
                    }),
                })
            }
            Err(e) => return Err(io_error(e)),
        };
        // One byte past the limit tells a file at the limit from a larger one.
        let mut bytes = Vec::new();
        file.take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(io_error)?;
        Ok(Self::parse(&bytes, path))
    }

    /// Reads the day's network context file (the `nwloc` setting); missing is fine, as in
    /// [`NetworkContext::load`].
    pub fn for_day(day: &Day) -> Result<NetworkContext, ContextError> {
        Self::load(&day.settings().nwloc)
    }

    /// Reads context entries from bytes (at most [`MAX_FILE_BYTES`] of them); `path` names
    /// them in warnings.
    pub fn parse(bytes: &[u8], path: &Path) -> NetworkContext {
        let mut reading = Reading::new(path);
        let limit = usize::try_from(MAX_FILE_BYTES).unwrap_or(usize::MAX);
        let (whole, cut) = if bytes.len() > limit {
            // Up to the last whole line within the limit.
            let end = memchr::memrchr(b'\n', &bytes[..limit]).map_or(0, |at| at + 1);
            (&bytes[..end], true)
        } else {
            (bytes, false)
        };
        let bytes = whole.strip_prefix(b"\xef\xbb\xbf").unwrap_or(whole);
        let mut number = 0;
        let mut finished = false;
        for raw in bytes.split(|&b| b == b'\n') {
            number += 1;
            if !reading.line(number, raw) {
                finished = true;
                break;
            }
        }
        if cut && !finished {
            // `split` yields an empty piece after the last line feed: that is the cut line.
            reading.rest_ignored(
                number,
                LineProblem::FileTooLarge {
                    limit: MAX_FILE_BYTES,
                },
            );
        }
        reading.finish()
    }

    /// A remark about how the context was loaded (the file was missing), to show the analyst.
    pub fn note(&self) -> Option<&str> {
        self.loaded.note.as_deref()
    }

    /// The lines skipped (the first [`MAX_WARNINGS`]), in file order.
    pub fn warnings(&self) -> &[ContextWarning] {
        &self.loaded.warnings
    }

    /// The warnings as the analyst sees them: one line each, then how many more there were.
    pub fn warning_lines(&self) -> Vec<String> {
        let loaded = &self.loaded;
        let mut lines: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
        if loaded.unlisted > 0 {
            lines.push(format!(
                "{}: {} more malformed line{} skipped",
                loaded.path.display(),
                loaded.unlisted,
                if loaded.unlisted == 1 { "" } else { "s" }
            ));
        }
        lines
    }

    /// Number of entries read (addresses, networks and ranges).
    pub fn len(&self) -> usize {
        self.loaded.entries
    }

    /// True when no name is known.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The name of an address: that of the most specific entry holding it.
    pub fn name_of_addr(&self, addr: IpAddr) -> Option<&str> {
        self.loaded.table.name_of(addr)
    }

    /// The name of an address written as text; `None` for unknown addresses and for text that
    /// is not an address.
    pub fn name_of(&self, ip: &str) -> Option<&str> {
        ip.parse().ok().and_then(|addr| self.name_of_addr(addr))
    }

    /// A label for lists: `10.1.2.3 (Mail server)`, or the address alone when it has no name.
    pub fn label(&self, ip: &str) -> String {
        match self.name_of(ip) {
            Some(name) => format!("{ip} ({name})"),
            None => ip.to_string(),
        }
    }

    /// Labels for a listbox of addresses, in the same order.
    pub fn labels(&self, ips: &[String]) -> Vec<String> {
        ips.iter().map(|ip| self.label(ip)).collect()
    }
}

/// The state of reading a file line by line.
struct Reading<'p> {
    path: &'p Path,
    builder: Builder,
    header_allowed: bool,
    warnings: Vec<ContextWarning>,
    unlisted: u64,
}

impl<'p> Reading<'p> {
    fn new(path: &'p Path) -> Reading<'p> {
        Reading {
            path,
            builder: Builder::default(),
            header_allowed: true,
            warnings: Vec::new(),
            unlisted: 0,
        }
    }

    /// Reads line `number` (without its line feed); false when reading stops here.
    fn line(&mut self, number: u64, raw: &[u8]) -> bool {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.len() > MAX_LINE_BYTES {
            self.skip(
                number,
                None,
                LineProblem::TooLong {
                    limit: MAX_LINE_BYTES,
                },
            );
            self.header_allowed = false;
            return true;
        }
        let Ok(text) = std::str::from_utf8(raw) else {
            self.skip(number, None, LineProblem::InvalidUtf8);
            self.header_allowed = false;
            return true;
        };
        if text.trim().is_empty() {
            return true;
        }
        let first = std::mem::replace(&mut self.header_allowed, false);
        match line::read(text, first) {
            Ok(Line::Header) => {}
            Ok(Line::Entry { .. }) if self.builder.len() >= MAX_ENTRIES => {
                self.rest_ignored(number, LineProblem::TooManyEntries { limit: MAX_ENTRIES });
                return false;
            }
            Ok(Line::Entry { place, name }) => self.builder.add(place, &name),
            Err((column, problem)) => self.skip(number, column, problem),
        }
        true
    }

    /// Records a skipped line; past [`MAX_WARNINGS`] it is only counted.
    fn skip(&mut self, number: u64, column: Option<usize>, problem: LineProblem) {
        if self.warnings.len() >= MAX_WARNINGS {
            self.unlisted += 1;
            return;
        }
        let at = match column {
            Some(column) => Position::field(
                self.path,
                number,
                column,
                line::COLUMNS.get(column - 1).copied(),
            ),
            None => Position::line(self.path, number),
        };
        self.warnings.push(ContextWarning { at, problem });
    }

    /// Records why the rest of the file from line `number` on is ignored; always listed.
    fn rest_ignored(&mut self, number: u64, problem: LineProblem) {
        self.warnings.push(ContextWarning {
            at: Position::line(self.path, number),
            problem,
        });
    }

    fn finish(self) -> NetworkContext {
        NetworkContext {
            loaded: Arc::new(Loaded {
                entries: self.builder.len(),
                table: self.builder.build(),
                path: self.path.to_path_buf(),
                note: None,
                warnings: self.warnings,
                unlisted: self.unlisted,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(text: &str) -> NetworkContext {
        NetworkContext::parse(text.as_bytes(), Path::new("networkcontext.csv"))
    }

    #[test]
    fn the_most_specific_entry_names_an_address() {
        let ctx = context(
            "ip,name\n10.0.0.0/8,Corporate\n10.1.0.0/16, Lab \n10.1.2.3,\"Mail, relay\"\n\
             192.0.54.0-192.0.54.254,Range\n2001:db8::/32,Branch v6\n::/0,Internet v6\n",
        );
        assert_eq!(ctx.warning_lines(), Vec::<String>::new());
        assert_eq!(ctx.name_of("10.1.2.3"), Some("Mail, relay"));
        assert_eq!(ctx.name_of("10.1.9.9"), Some("Lab"));
        assert_eq!(ctx.name_of("10.200.0.1"), Some("Corporate"));
        assert_eq!(ctx.name_of("192.0.54.254"), Some("Range"));
        assert_eq!(ctx.name_of("192.0.54.255"), None);
        assert_eq!(ctx.name_of("2001:db8::1"), Some("Branch v6"));
        assert_eq!(ctx.name_of("fe80::1"), Some("Internet v6"));
        assert_eq!(ctx.name_of("not an ip"), None);
        assert_eq!(ctx.label("10.1.2.3"), "10.1.2.3 (Mail, relay)");
        assert_eq!(ctx.label("8.8.8.8"), "8.8.8.8");
        assert_eq!(
            ctx.labels(&["10.1.9.9".to_string(), "8.8.8.8".to_string()]),
            ["10.1.9.9 (Lab)", "8.8.8.8"]
        );
        assert_eq!(ctx.len(), 6);
    }

    #[test]
    fn a_range_counts_as_its_size() {
        let ctx = context(
            "10.0.0.0/24,Net24\n10.0.0.1-10.0.0.254,Range254\n10.0.0.0/25,Net25\n\
             10.0.0.7,Host\n0.0.0.0/0,Anywhere\n",
        );
        assert_eq!(ctx.name_of("10.0.0.1"), Some("Net25"));
        assert_eq!(ctx.name_of("10.0.0.7"), Some("Host"));
        assert_eq!(ctx.name_of("10.0.0.200"), Some("Range254"));
        assert_eq!(ctx.name_of("10.0.0.255"), Some("Net24"));
        assert_eq!(ctx.name_of("255.255.255.255"), Some("Anywhere"));
        assert_eq!(ctx.name_of("::1"), None);
    }

    #[test]
    fn the_ends_of_both_address_spaces_split_cleanly() {
        let ctx = context(
            "0.0.0.0/0,All v4
0.0.0.0,Lowest v4
255.255.255.255,Highest v4
             ::/0,All v6
::,Lowest v6
ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff,Highest v6
",
        );
        assert_eq!(ctx.name_of("0.0.0.0"), Some("Lowest v4"));
        assert_eq!(ctx.name_of("0.0.0.1"), Some("All v4"));
        assert_eq!(ctx.name_of("255.255.255.254"), Some("All v4"));
        assert_eq!(ctx.name_of("255.255.255.255"), Some("Highest v4"));
        assert_eq!(ctx.name_of("::"), Some("Lowest v6"));
        assert_eq!(ctx.name_of("::1"), Some("All v6"));
        assert_eq!(
            ctx.name_of("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
            Some("Highest v6")
        );
    }

    #[test]
    fn a_later_entry_for_the_same_place_wins_as_in_the_original() {
        let ctx = context("srcIP,name\n10.0.0.1,old\n10.0.0.1,new\n10.0.0.0/24,a\n10.0.0.0/24,b\n");
        assert_eq!(ctx.name_of("10.0.0.1"), Some("new"));
        assert_eq!(ctx.name_of("10.0.0.2"), Some("b"));
    }

    #[test]
    fn malformed_lines_are_skipped_with_file_line_and_column() {
        for (text, message) in [
            ("ip,name\n10.0.0.0/8,ok\n10.0.0/8,bad\n", "networkcontext.csv:3:1 (column ip): \"10.0.0/8\" is not an IPv4 or IPv6 address (line skipped)"),
            ("ip,name\n10.0.0.1\n", "networkcontext.csv:2:2 (column name): no name after the address; write `address,name` (line skipped)"),
            ("ip,name\n10.0.0.9-10.0.0.1,backwards\n", "networkcontext.csv:2:1 (column ip): \"10.0.0.9-10.0.0.1\" is not a range from a lower to a higher address of one family (line skipped)"),
            ("address,label\n", "networkcontext.csv:1: \"address,label\" is neither the header `ip,name` (or `srcIP,name`) nor an address, network or range (line skipped)"),
            ("ip,name\n10.0.0.1,\"open\n10.0.0.2,closed\n", "networkcontext.csv:2:2 (column name): a quoted field is not closed on its line (line skipped)"),
        ] {
            let ctx = NetworkContext::parse(text.as_bytes(), Path::new("networkcontext.csv"));
            assert_eq!(ctx.warning_lines(), [message]);
        }
        let ctx = context("ip,name\n10.0.0.1,\"open\n10.0.0.2,closed\n");
        assert_eq!(ctx.name_of("10.0.0.2"), Some("closed"));
        assert_eq!(ctx.name_of("10.0.0.1"), None);
        let ctx = NetworkContext::parse(b"10.0.0.1,\xff\n10.0.0.2,b\n", Path::new("nw.csv"));
        assert_eq!(
            ctx.warning_lines(),
            ["nw.csv:1: the line is not valid UTF-8 (line skipped)"]
        );
        assert_eq!(ctx.name_of("10.0.0.2"), Some("b"));
    }

    #[test]
    fn blank_lines_crlf_and_a_bom_are_fine() {
        let ctx = context("\u{feff}ip,name\r\n\r\n10.0.0.1,a\r\n   \n10.0.0.2,b");
        assert!(ctx.warnings().is_empty(), "{:?}", ctx.warning_lines());
        assert_eq!(
            (ctx.name_of("10.0.0.1"), ctx.name_of("10.0.0.2")),
            (Some("a"), Some("b"))
        );
    }

    #[test]
    fn warnings_past_the_limit_are_counted_not_listed() {
        let text = format!("10.0.0.1,first\n{}10.0.0.2,last\n", "bad,line\n".repeat(25));
        let ctx = context(&text);
        let lines = ctx.warning_lines();
        assert_eq!(lines.len(), MAX_WARNINGS + 1);
        assert!(lines[0].starts_with("networkcontext.csv:2:1 (column ip): \"bad\""));
        assert_eq!(
            lines[MAX_WARNINGS],
            "networkcontext.csv: 5 more malformed lines skipped"
        );
        assert_eq!(ctx.name_of("10.0.0.2"), Some("last"));
    }

    #[test]
    fn long_lines_many_entries_and_large_files_are_bounded() {
        let long = format!("10.0.0.1,{}\n10.0.0.2,short\n", "x".repeat(MAX_LINE_BYTES));
        let ctx = context(&long);
        assert_eq!(
            ctx.warning_lines(),
            [format!(
                "networkcontext.csv:1: the line is longer than {MAX_LINE_BYTES} bytes (line skipped)"
            )]
        );
        assert_eq!(ctx.name_of("10.0.0.2"), Some("short"));

        let many: String = (0..=MAX_ENTRIES as u32)
            .map(|i| format!("{},n\n", std::net::Ipv4Addr::from(i)))
            .collect();
        let ctx = context(&many);
        assert_eq!(ctx.len(), MAX_ENTRIES);
        assert_eq!(
            ctx.warning_lines(),
            [format!("networkcontext.csv:{}: more than {MAX_ENTRIES} entries; this line and the rest of the file are ignored", MAX_ENTRIES + 1)]
        );

        let blank = usize::try_from(MAX_FILE_BYTES).unwrap();
        let large = format!("10.0.0.1,kept\n{}10.0.0.2,cut\n", "\n".repeat(blank));
        // The cut falls among the blank lines: line 1, then `blank - 13` line feeds fit.
        let ctx = context(&large);
        assert_eq!(ctx.name_of("10.0.0.1"), Some("kept"));
        assert_eq!(ctx.name_of("10.0.0.2"), None);
        assert_eq!(
            ctx.warning_lines(),
            [format!("networkcontext.csv:{}: the file is larger than 16 MiB; this line and the rest of the file are ignored", blank - 12)]
        );
    }

    #[test]
    fn a_missing_file_gives_an_empty_context_with_a_note() {
        let ctx = NetworkContext::load(Path::new("/nonexistent/networkcontext.csv"))
            .expect("missing is fine");
        assert!(ctx.is_empty());
        assert_eq!(
            ctx.note(),
            Some("no network context at /nonexistent/networkcontext.csv; addresses are shown without names")
        );
    }
}
