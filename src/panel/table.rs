//! The compact table of connections the panel shows (preview and scored rows): narrow enough
//! to sit under the listboxes without scrolling. The day is one date, so only the time of
//! `tstart` is shown; names from the network context go under the address, then the
//! reputation badge, place and domain the day's context columns hold (see
//! [`crate::views::endpoint`]); `lda_score` is shown with four significant digits (the file
//! keeps every digit).

use crate::analysis::connections::{Connection, ConnectionPage};
use crate::views::connections::{self, address_html};
use crate::views::html::{escape, more, HtmlTable};

/// The connection views' columns; `tstart` shows only its time, so it is headed "time".
const HEADERS: [&str; 10] = {
    let mut headers = connections::HEADERS;
    headers[1] = "time";
    headers
};

fn time(tstart: &str) -> &str {
    tstart.split_once(' ').map_or(tstart, |(_, time)| time)
}

fn score(text: &str) -> String {
    match text.parse::<f64>() {
        Ok(value) if value != 0.0 => format!("{value:.3e}"),
        _ => text.to_string(),
    }
}

fn cells(c: &Connection) -> [String; 10] {
    [
        escape(&c.sev),
        escape(time(&c.tstart)),
        address_html(&c.src_ip, c.src_name.as_deref(), &c.src_context),
        address_html(&c.dst_ip, c.dst_name.as_deref(), &c.dst_context),
        escape(&c.sport),
        escape(&c.dport),
        escape(&c.proto),
        escape(&c.ipkt),
        escape(&c.ibyt),
        escape(&score(&c.lda_score)),
    ]
}

/// The page as a compact HTML table under `caption`, with "… N more" when cut.
pub(super) fn compact_table(page: &ConnectionPage, caption: &str) -> String {
    let mut table = HtmlTable::new(caption, &HEADERS, &connections::NUMERIC);
    for connection in &page.connections {
        table.raw_row(&cells(connection));
    }
    table.finish(more(page.remaining(), "connections").as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::analysis::connections::EndpointContext;
    use crate::Column;

    #[test]
    fn the_compact_table_shows_time_names_context_and_short_scores_escaped() {
        let connection = Connection {
            line: 2,
            sev: "1".into(),
            tstart: "2016-07-08 23:24:44".into(),
            src_ip: "10.0.0.1".into(),
            dst_ip: "8.8.8.8".into(),
            sport: "5000".into(),
            dport: "53".into(),
            proto: "UDP".into(),
            ipkt: "1".into(),
            ibyt: "60".into(),
            lda_score: "2.3899000000000012e-3".into(),
            src_name: Some("<Mail>".into()),
            dst_name: None,
            src_context: EndpointContext::default(),
            dst_context: EndpointContext {
                reputation: vec![(Column::DstIpRep, "gti:Medium:2".into())],
                geo: Some("Hesse;Frankfurt am Main Deutsche Telekom AG".into()),
                domain: Some("telekom.de".into()),
            },
        };
        let page = ConnectionPage {
            connections: vec![connection],
            offset: 0,
            matched: 3,
        };
        let html = compact_table(&page, "scored");
        assert!(html.contains(">23:24:44<"), "{html}");
        assert!(html.contains("10.0.0.1<br><span style=\"color:#666\">&lt;Mail&gt;</span>"));
        assert!(html.contains(">2.390e-3<"), "{html}");
        // The destination's reputation, place and domain under its address; none for the
        // source, whose columns are empty.
        assert_eq!(html.matches("flow-edge-endpoint").count(), 1, "{html}");
        assert!(html.contains("flow-edge-rep-medium"), "{html}");
        assert!(
            html.contains(">Hesse</span> · <span title=\"telekom.de\">telekom.de<"),
            "{html}"
        );
        assert!(html.contains("… 2 more connections"));
    }
}
