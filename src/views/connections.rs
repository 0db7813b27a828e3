//! Views of a page of connections. Under each address: its network-context name, then what
//! the day's context columns say of it (see [`super::endpoint`]).

use std::fmt;

use super::endpoint::{context_html, context_text};
use super::html::{escape, more, with_name, HtmlTable, ToHtml};
use super::{evcxr_view, text};
use crate::analysis::connections::{Connection, ConnectionPage, EndpointContext};

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

/// An address as text: `10.1.2.3 (Mail server)`, then its context on a second line.
fn address_text(ip: &str, name: Option<&str>, context: &EndpointContext) -> String {
    let address = with_name(ip, name);
    match context_text(context) {
        Some(line) => format!("{address}\n{line}"),
        None => address,
    }
}

/// An address as HTML: the address, its name in grey, then its context.
pub(crate) fn address_html(ip: &str, name: Option<&str>, context: &EndpointContext) -> String {
    let mut html = escape(ip);
    if let Some(name) = name {
        html.push_str(&format!(
            "<br><span style=\"color:#666\">{}</span>",
            escape(name)
        ));
    }
    html.push_str(&context_html(context).unwrap_or_default());
    html
}

/// The text cells of a connection, its addresses given.
fn cells_with(c: &Connection, src: String, dst: String) -> [String; 10] {
    [
        c.sev.clone(),
        c.tstart.clone(),
        src,
        dst,
        c.sport.clone(),
        c.dport.clone(),
        c.proto.clone(),
        c.ipkt.clone(),
        c.ibyt.clone(),
        c.lda_score.clone(),
    ]
}

fn text_cells(c: &Connection) -> [String; 10] {
    cells_with(
        c,
        address_text(&c.src_ip, c.src_name.as_deref(), &c.src_context),
        address_text(&c.dst_ip, c.dst_name.as_deref(), &c.dst_context),
    )
}

fn html_cells(c: &Connection) -> [String; 10] {
    let mut cells = cells_with(c, String::new(), String::new()).map(|cell| escape(&cell));
    cells[2] = address_html(&c.src_ip, c.src_name.as_deref(), &c.src_context);
    cells[3] = address_html(&c.dst_ip, c.dst_name.as_deref(), &c.dst_context);
    cells
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
            table.add_row(text_cells(connection).to_vec());
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
            table.raw_row(&html_cells(connection));
        }
        table.finish(more(self.remaining(), "connections").as_deref())
    }
}

evcxr_view!(ConnectionPage);
