//! The context of one end of a connection at a glance, under its address: the reputation as a
//! badge (high, medium, low, unknown; see [`crate::analysis::reputation`]), the place and the
//! domain. In HTML each shows its full value on hover; in text they make one plain line.
//! Only what the day carries is shown: a column it lacks, or an empty field, shows nothing.
//!
//! The place is the first `;`-separated part of the geo field. Spot's OA step writes geo as
//! `state;city owner` (iploc.csv columns 4, 5 and 8, no country), other sources start with
//! the country (`US;Mountain View, CA;…`): so the place is the country where the geo source
//! writes one first, else the state.

use super::html::escape;
use crate::analysis::connections::EndpointContext;
use crate::analysis::reputation::ReputationLevel;

/// Characters of a place or domain shown before "…" (the whole text is on hover).
const SHORT: usize = 24;

/// The first part of a geo field, trimmed.
fn place(geo: &str) -> &str {
    geo.split(';').next().unwrap_or_default().trim()
}

/// `text`, cut to [`SHORT`] characters with "…" when longer.
fn short(text: &str) -> String {
    match text.char_indices().nth(SHORT) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// The non-empty place and domain, each with its full text.
fn place_and_domain(context: &EndpointContext) -> Vec<(String, &str)> {
    let geo = context.geo.as_deref().map(str::trim).unwrap_or_default();
    let domain = context.domain.as_deref().map(str::trim).unwrap_or_default();
    [(place(geo), geo), (domain, domain)]
        .into_iter()
        .filter(|(shown, _)| !shown.is_empty())
        .map(|(shown, full)| (short(shown), full))
        .collect()
}

/// One plain line, `[high] California · google.com`; `None` when there is nothing to show.
pub(crate) fn context_text(context: &EndpointContext) -> Option<String> {
    let mut parts: Vec<String> = context
        .reputation_level()
        .map(|level| format!("[{level}]"))
        .into_iter()
        .collect();
    let rest: Vec<String> = place_and_domain(context)
        .into_iter()
        .map(|(shown, _)| shown)
        .collect();
    if !rest.is_empty() {
        parts.push(rest.join(" · "));
    }
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// Badge colours: Spot's UI used red, amber and blue for 3, 2 and 1, grey otherwise.
fn badge_colour(level: ReputationLevel) -> &'static str {
    match level {
        ReputationLevel::High => "#b42318",
        ReputationLevel::Medium => "#b54708",
        ReputationLevel::Low => "#1d4ed8",
        ReputationLevel::Unknown => "#6b7280",
    }
}

/// The reputation badge, its fields on hover (`gtiSrcRep: gti:High:3`, one per line).
fn badge(context: &EndpointContext, level: ReputationLevel) -> String {
    let fields: Vec<String> = context
        .reputation
        .iter()
        .filter(|(_, field)| !field.trim().is_empty())
        .map(|(column, field)| format!("{}: {field}", column.name()))
        .collect();
    format!(
        "<span class=\"flow-edge-rep flow-edge-rep-{level}\" title=\"{}\" \
         style=\"display:inline-block;padding:0 5px;border-radius:7px;font-size:10px;\
         line-height:14px;color:#fff;background:{}\">{level}</span>",
        escape(&fields.join("\n")),
        badge_colour(level)
    )
}

/// The context as one HTML line (badge, place, domain); `None` when there is nothing to show.
pub(crate) fn context_html(context: &EndpointContext) -> Option<String> {
    let mut parts: Vec<String> = context
        .reputation_level()
        .map(|level| badge(context, level))
        .into_iter()
        .collect();
    let rest: Vec<String> = place_and_domain(context)
        .into_iter()
        .map(|(shown, full)| format!("<span title=\"{}\">{}</span>", escape(full), escape(&shown)))
        .collect();
    if !rest.is_empty() {
        parts.push(rest.join(" · "));
    }
    (!parts.is_empty()).then(|| {
        format!(
            "<div class=\"flow-edge-endpoint\" style=\"white-space:nowrap;font-size:11px;color:#444\">{}</div>",
            parts.join(" ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Column;

    fn spot_host() -> EndpointContext {
        EndpointContext {
            reputation: vec![
                (Column::GtiSrcRep, "gti:Minimal:1".into()),
                (Column::NorseSrcRep, "norse:High:3".into()),
            ],
            geo: Some("California;Mountain View Google Inc.".into()),
            domain: Some("a-very-long-subdomain.of.google.com".into()),
        }
    }

    #[test]
    fn a_host_shows_a_badge_its_place_and_domain_with_full_values_on_hover() {
        let html = context_html(&spot_host()).unwrap();
        assert!(html.contains("flow-edge-rep-high"), "{html}");
        assert!(
            html.contains("title=\"gtiSrcRep: gti:Minimal:1\nnorseSrcRep: norse:High:3\""),
            "{html}"
        );
        assert!(
            html.contains("<span title=\"California;Mountain View Google Inc.\">California</span>"),
            "{html}"
        );
        assert!(
            html.contains(
                "title=\"a-very-long-subdomain.of.google.com\">a-very-long-subdomain.of…<"
            ),
            "{html}"
        );
        assert_eq!(
            context_text(&spot_host()).unwrap(),
            "[high] California · a-very-long-subdomain.of…"
        );
    }

    #[test]
    fn absent_or_empty_columns_show_nothing() {
        assert_eq!(context_html(&EndpointContext::default()), None);
        let internal = EndpointContext {
            reputation: vec![(Column::SrcIpRep, String::new())],
            geo: Some(String::new()),
            domain: Some("intel.com".into()),
        };
        assert_eq!(context_text(&internal).unwrap(), "intel.com");
        let html = context_html(&internal).unwrap();
        assert!(!html.contains("flow-edge-rep"), "{html}");
        // A country first, as other geo sources write it.
        let abroad = EndpointContext {
            geo: Some("US;Mountain View, CA;37.41;-122.07".into()),
            ..EndpointContext::default()
        };
        assert_eq!(context_text(&abroad).unwrap(), "US");
        let hostile = EndpointContext {
            domain: Some("<script>".into()),
            ..EndpointContext::default()
        };
        assert!(!context_html(&hostile).unwrap().contains("<script>"));
    }
}
