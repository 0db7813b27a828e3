//! Views of a page of connections.

use std::fmt;

use super::html::{more, with_name, HtmlTable, ToHtml};
use super::{evcxr_view, text};
use crate::analysis::connections::{Connection, ConnectionPage};

/// The columns an analyst reads first, in the order every connection table shows them.
pub(crate) const HEADERS: [&str; 10] = [
    "sev",
    "tstart",
    "srcIP",
    "dstIP",
    "sport",
    "dport",
    "proto",
    "ipkt",
    "ibyt",
    "lda_score",
];
/// The right-aligned (numeric) columns of [`HEADERS`].
pub(crate) const NUMERIC: [usize; 6] = [0, 4, 5, 7, 8, 9];

fn cells(c: &Connection) -> [String; 10] {
    [
        c.sev.clone(),
        c.tstart.clone(),
        with_name(&c.src_ip, c.src_name.as_deref()),
        with_name(&c.dst_ip, c.dst_name.as_deref()),
        c.sport.clone(),
        c.dport.clone(),
        c.proto.clone(),
        c.ipkt.clone(),
        c.ibyt.clone(),
        c.lda_score.clone(),
    ]
}

fn caption(page: &ConnectionPage) -> String {
    let first = page.offset + 1;
    let last = page.offset + page.connections.len() as u64;
    if page.connections.is_empty() {
        format!("{} matching connections", page.matched)
    } else {
        format!("connections {first} to {last} of {}", page.matched)
    }
}

impl fmt::Display for ConnectionPage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut table = text::table(&HEADERS, &NUMERIC);
        for connection in &self.connections {
            table.add_row(cells(connection).to_vec());
        }
        writeln!(f, "{}", caption(self))?;
        write!(f, "{table}")?;
        if let Some(line) = more(self.remaining(), "connections") {
            write!(f, "\n{line}")?;
        }
        Ok(())
    }
}

impl ToHtml for ConnectionPage {
    fn to_html(&self) -> String {
        let mut table = HtmlTable::new(&caption(self), &HEADERS, &NUMERIC);
        for connection in &self.connections {
            table.row(&cells(connection));
        }
        table.finish(more(self.remaining(), "connections").as_deref())
    }
}

evcxr_view!(ConnectionPage);
