//! What the analyst picked to score: the listboxes and the quick IP box.
//!
//! The original notebook's matching rule, kept exactly: without a quick IP a
//! row matches when every chosen field equals its value. With a quick IP `q`,
//! a row matches when (`srcIP == q` and the chosen `dstIP`, `sport`, `dport`
//! match) or (`dstIP == q` and the chosen `srcIP`, `sport`, `dport` match).
//! Values are compared as text, as the original did (after trimming spaces
//! around what was typed or picked). Fixed: a row matched by
//! both branches is scored and fed back once (the original wrote it twice).

use crate::csv::row::{parse_port, Row};
use crate::csv::schema::Column;
use crate::error::Error;
use std::net::IpAddr;

/// The listbox choices and quick IP text of one scoring. `None` (or an empty
/// string) means "- Select -".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// The quick IP box: scores rows with this address on either side.
    pub quick_ip: Option<String>,
    /// Source IP listbox.
    pub src_ip: Option<String>,
    /// Destination IP listbox.
    pub dst_ip: Option<String>,
    /// Source port listbox.
    pub sport: Option<String>,
    /// Destination port listbox.
    pub dport: Option<String>,
}

impl Selection {
    /// An empty selection, to fill with the builder methods.
    pub fn new() -> Selection {
        Selection::default()
    }

    /// Sets the quick IP.
    pub fn quick_ip(mut self, ip: impl Into<String>) -> Selection {
        self.quick_ip = Some(ip.into());
        self
    }

    /// Sets the source IP.
    pub fn src_ip(mut self, ip: impl Into<String>) -> Selection {
        self.src_ip = Some(ip.into());
        self
    }

    /// Sets the destination IP.
    pub fn dst_ip(mut self, ip: impl Into<String>) -> Selection {
        self.dst_ip = Some(ip.into());
        self
    }

    /// Sets the source port.
    pub fn sport(mut self, port: impl Into<String>) -> Selection {
        self.sport = Some(port.into());
        self
    }

    /// Sets the destination port.
    pub fn dport(mut self, port: impl Into<String>) -> Selection {
        self.dport = Some(port.into());
        self
    }

    /// Checks the selection and turns it into a matcher: at least one filter,
    /// a quick IP that is an IPv4 or IPv6 address, IPs that are addresses,
    /// ports that are numbers.
    pub fn matcher(&self) -> Result<Matcher, Error> {
        let chosen = |value: &Option<String>| {
            value
                .as_deref()
                .map(str::trim)
                .filter(|text| !text.is_empty())
                .map(str::to_owned)
        };
        let matcher = Matcher {
            quick_ip: chosen(&self.quick_ip),
            src_ip: chosen(&self.src_ip),
            dst_ip: chosen(&self.dst_ip),
            sport: chosen(&self.sport),
            dport: chosen(&self.dport),
        };
        if let Some(ip) = &matcher.quick_ip {
            check_ip("quick IP", ip)?;
        }
        for (what, ip) in [
            ("source IP", &matcher.src_ip),
            ("destination IP", &matcher.dst_ip),
        ] {
            if let Some(ip) = ip {
                check_ip(what, ip)?;
            }
        }
        for (what, port) in [
            ("source port", &matcher.sport),
            ("destination port", &matcher.dport),
        ] {
            if let Some(port) = port {
                if parse_port(port).is_none() {
                    return Err(Error::Selection(format!(
                        "{what} {port:?} is not a port (0 to 65535)"
                    )));
                }
            }
        }
        let any = [
            &matcher.quick_ip,
            &matcher.src_ip,
            &matcher.dst_ip,
            &matcher.sport,
            &matcher.dport,
        ]
        .iter()
        .any(|value| value.is_some());
        if !any {
            return Err(Error::Selection(
                "no filter chosen; pick an IP or port, or type a quick IP".to_owned(),
            ));
        }
        Ok(matcher)
    }
}

fn check_ip(what: &str, text: &str) -> Result<(), Error> {
    text.parse::<IpAddr>()
        .map(|_| ())
        .map_err(|_| Error::Selection(format!("{what} {text:?} is not an IPv4 or IPv6 address")))
}

/// A checked selection, ready to test rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matcher {
    quick_ip: Option<String>,
    src_ip: Option<String>,
    dst_ip: Option<String>,
    sport: Option<String>,
    dport: Option<String>,
}

impl Matcher {
    /// Whether the row matches (see the module docs for the rule).
    #[inline]
    pub fn matches(&self, row: &Row) -> bool {
        let equal = |wanted: &Option<String>, column: Column| {
            wanted
                .as_deref()
                .is_none_or(|value| row.get(column) == value)
        };
        let ports = equal(&self.sport, Column::Sport) && equal(&self.dport, Column::Dport);
        match &self.quick_ip {
            None => {
                ports && equal(&self.src_ip, Column::SrcIp) && equal(&self.dst_ip, Column::DstIp)
            }
            Some(quick) => {
                ports
                    && ((row.get(Column::SrcIp) == quick && equal(&self.dst_ip, Column::DstIp))
                        || (row.get(Column::DstIp) == quick && equal(&self.src_ip, Column::SrcIp)))
            }
        }
    }
}
