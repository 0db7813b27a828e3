//! The network context (`nwloc`): names for the analyst's own addresses and networks.
//!
//! A comma-separated file (`<oa>/context/networkcontext.csv` by default) with a header line
//! `ip,name` (`srcIP,name`, the original's name for the first column, is accepted too) and one
//! entry per line:
//!
//! ```text
//! ip,name
//! 10.0.0.0/8,Corporate network
//! 10.1.2.3,Mail server
//! 192.0.54.0-192.0.54.254,Lab
//! 2001:db8::/32,"Branch office, IPv6"
//! ```
//!
//! The first field is an address, a CIDR network or an inclusive range `first-last` (the forms
//! the Spot context README lists), IPv4 or IPv6; the second is the name (RFC 4180 quoting for
//! commas; spaces around fields are trimmed; further columns are ignored). When several entries
//! hold an address the narrowest wins (longest prefix), and among equally narrow ones the later
//! line, as the original's dictionary did. A missing file is not an error: the context is empty
//! and [`NetworkContext::note`] says so. A malformed line is an error with file and line.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use crate::analysis::cidr::parse_network;
use crate::csv::records::{Advance, Splitter};
use crate::Day;

/// Names for addresses, looked up by longest prefix.
#[derive(Debug, Clone, Default)]
pub struct NetworkContext {
    exact: HashMap<IpAddr, String>,
    /// Networks and ranges, narrowest first (ties: later line first).
    blocks: Vec<Block>,
    note: Option<String>,
}

/// A network or range with its name; `first..=last` as numbers of one address family.
#[derive(Debug, Clone)]
struct Block {
    v6: bool,
    first: u128,
    last: u128,
    name: String,
}

/// Why a context file cannot be used.
#[derive(Debug)]
pub enum ContextError {
    /// The file exists but cannot be read.
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A line is not `ip,name` (or the CSV itself is broken).
    Line {
        path: PathBuf,
        line: u64,
        message: String,
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
            ContextError::Line {
                path,
                line,
                message,
            } => write!(f, "{}:{line}: {message}", path.display()),
        }
    }
}

impl std::error::Error for ContextError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ContextError::Io { source, .. } => Some(source),
            ContextError::Line { .. } => None,
        }
    }
}

fn number(addr: IpAddr) -> (bool, u128) {
    match addr {
        IpAddr::V4(v4) => (false, u128::from(u32::from(v4))),
        IpAddr::V6(v6) => (true, u128::from(v6)),
    }
}

/// What the first field of an entry names.
enum Place {
    Address(IpAddr),
    Block { v6: bool, first: u128, last: u128 },
}

fn place(text: &str) -> Result<Place, String> {
    if let Some((first, last)) = text.split_once('-') {
        let parse = |t: &str| {
            t.trim()
                .parse::<IpAddr>()
                .map_err(|_| format!("{:?} is not an address in range {text:?}", t.trim()))
        };
        let (v6, first) = number(parse(first)?);
        let (last_v6, last) = number(parse(last)?);
        if v6 != last_v6 || first > last {
            return Err(format!(
                "{text:?} is not a range from a lower to a higher address of one family"
            ));
        }
        return Ok(Place::Block { v6, first, last });
    }
    let net = parse_network(text).map_err(|e| e.to_string())?;
    if net.prefix_len() == net.max_prefix_len() {
        return Ok(Place::Address(net.addr()));
    }
    let (v6, first) = number(net.network());
    let (_, last) = number(net.broadcast());
    Ok(Place::Block { v6, first, last })
}

impl NetworkContext {
    /// An empty context (no names).
    pub fn empty() -> NetworkContext {
        NetworkContext::default()
    }

    /// Reads a context file; a missing file gives an empty context with a note.
    pub fn load(path: &Path) -> Result<NetworkContext, ContextError> {
        match std::fs::read(path) {
            Ok(bytes) => Self::parse(&bytes, path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(NetworkContext {
                note: Some(format!(
                    "no network context at {}; addresses are shown without names",
                    path.display()
                )),
                ..NetworkContext::default()
            }),
            Err(source) => Err(ContextError::Io {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    /// Reads the day's network context file (the `nwloc` setting); missing is fine, as in
    /// [`NetworkContext::load`].
    pub fn for_day(day: &Day) -> Result<NetworkContext, ContextError> {
        Self::load(&day.settings().nwloc)
    }

    /// Reads context entries from bytes; `path` names them in errors.
    pub fn parse(bytes: &[u8], path: &Path) -> Result<NetworkContext, ContextError> {
        let mut context = NetworkContext::default();
        let mut entries: Vec<(u64, Block)> = Vec::new();
        let mut splitter = Splitter::new(path);
        let mut rest = bytes;
        let mut header_seen = false;
        loop {
            let at_line = |line: u64, message: String| ContextError::Line {
                path: path.to_path_buf(),
                line,
                message,
            };
            let engine_error = |e: crate::Error| {
                let line = e.position().map_or(0, |p| p.line);
                let message = e
                    .problem()
                    .map_or_else(|| e.to_string(), ToString::to_string);
                at_line(line, message)
            };
            if splitter.advance(rest, true).map_err(engine_error)? == Advance::End {
                break;
            }
            let Some((record, used)) = splitter.take(rest).map_err(engine_error)? else {
                break;
            };
            let first = record.text(0).trim();
            let name = record.text(1).trim();
            if !header_seen {
                header_seen = true;
                if !(first.eq_ignore_ascii_case("ip") || first.eq_ignore_ascii_case("srcIP"))
                    || !name.eq_ignore_ascii_case("name")
                {
                    return Err(at_line(
                        record.line,
                        format!("expected the header `ip,name`, found {:?}", record.content),
                    ));
                }
            } else {
                if record.fields.len() < 2 || name.is_empty() {
                    return Err(at_line(record.line, "expected `address,name`".to_string()));
                }
                match place(first).map_err(|m| at_line(record.line, m))? {
                    Place::Address(addr) => {
                        context.exact.insert(addr, name.to_string());
                    }
                    Place::Block { v6, first, last } => entries.push((
                        record.line,
                        Block {
                            v6,
                            first,
                            last,
                            name: name.to_string(),
                        },
                    )),
                }
            }
            rest = &rest[used..];
        }
        entries.sort_by(|(line_a, a), (line_b, b)| {
            (a.last - a.first)
                .cmp(&(b.last - b.first))
                .then(line_b.cmp(line_a))
        });
        context.blocks = entries.into_iter().map(|(_, block)| block).collect();
        Ok(context)
    }

    /// A remark about how the context was loaded (the file was missing), to show the analyst.
    pub fn note(&self) -> Option<&str> {
        self.note.as_deref()
    }

    /// Number of entries (addresses, networks and ranges).
    pub fn len(&self) -> usize {
        self.exact.len() + self.blocks.len()
    }

    /// True when no name is known.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The name of an address: its own entry, else the narrowest network or range holding it.
    pub fn name_of_addr(&self, addr: IpAddr) -> Option<&str> {
        if let Some(name) = self.exact.get(&addr) {
            return Some(name);
        }
        let (v6, value) = number(addr);
        self.blocks
            .iter()
            .find(|b| b.v6 == v6 && b.first <= value && value <= b.last)
            .map(|b| b.name.as_str())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn context(text: &str) -> Result<NetworkContext, ContextError> {
        NetworkContext::parse(text.as_bytes(), Path::new("networkcontext.csv"))
    }

    #[test]
    fn the_narrowest_entry_names_an_address() {
        let ctx = context(
            "ip,name\n10.0.0.0/8,Corporate\n10.1.0.0/16, Lab \n10.1.2.3,\"Mail, relay\"\n\
             192.0.54.0-192.0.54.254,Range\n2001:db8::/32,Branch v6\n::/0,Internet v6\n",
        )
        .expect("valid context");
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
    fn a_later_entry_for_the_same_place_wins_as_in_the_original() {
        let ctx = context("srcIP,name\n10.0.0.1,old\n10.0.0.1,new\n10.0.0.0/24,a\n10.0.0.0/24,b\n")
            .expect("valid context");
        assert_eq!(ctx.name_of("10.0.0.1"), Some("new"));
        assert_eq!(ctx.name_of("10.0.0.2"), Some("b"));
    }

    #[test]
    fn malformed_lines_are_reported_with_file_and_line() {
        for (text, message) in [
            ("ip,name\n10.0.0.0/8,ok\n10.0.0/8,bad\n", "networkcontext.csv:3: \"10.0.0/8\" is not an IPv4 or IPv6 address"),
            ("ip,name\n10.0.0.1\n", "networkcontext.csv:2: expected `address,name`"),
            ("ip,name\n10.0.0.9-10.0.0.1,backwards\n", "networkcontext.csv:2: \"10.0.0.9-10.0.0.1\" is not a range from a lower to a higher address of one family"),
            ("address,label\n", "networkcontext.csv:1: expected the header `ip,name`, found \"address,label\""),
            ("ip,name\n10.0.0.1,\"open\n", "networkcontext.csv:2: a quoted field is not closed before the end of the file"),
        ] {
            let err = context(text).expect_err(message);
            assert_eq!(err.to_string(), message);
        }
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
