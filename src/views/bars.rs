//! Horizontal bar charts: block characters for text, inline SVG for notebooks.

use std::fmt::Write;

use super::html::escape;

/// Width of the longest text bar, in character cells.
pub(crate) const TEXT_BAR_WIDTH: usize = 30;

/// A bar of `value` out of `max`, drawn with eighth-blocks for a smooth end.
pub(crate) fn text_bar(value: u64, max: u64) -> String {
    if max == 0 {
        return String::new();
    }
    let eighths = (value as u128 * (TEXT_BAR_WIDTH as u128) * 8 / max as u128) as usize;
    let mut bar = "█".repeat(eighths / 8);
    const PARTIAL: [&str; 8] = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];
    bar.push_str(PARTIAL[eighths % 8]);
    if bar.is_empty() && value > 0 {
        bar.push('▏');
    }
    bar
}

/// An SVG bar chart: one labelled bar per `(label, value)`, longest bar the full width.
pub(crate) fn svg_bars(title: &str, bars: &[(String, u64)]) -> String {
    const LABEL: u64 = 260;
    const PLOT: u64 = 360;
    const ROW: u64 = 20;
    const TOP: u64 = 24;
    let max = bars.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1);
    let height = TOP + ROW * bars.len() as u64 + 8;
    let width = LABEL + PLOT + 60;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         role=\"img\" style=\"font-family:monospace;font-size:12px\">\
         <title>{}</title><text x=\"0\" y=\"14\" font-weight=\"bold\">{}</text>",
        escape(title),
        escape(title)
    );
    for (index, (label, value)) in bars.iter().enumerate() {
        let y = TOP + ROW * index as u64;
        let length = (value * PLOT / max).max(1);
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\
             <rect x=\"{LABEL}\" y=\"{}\" width=\"{length}\" height=\"{}\" fill=\"#c0392b\"/>\
             <text x=\"{}\" y=\"{}\">{value}</text>",
            LABEL - 6,
            y + 13,
            escape(label),
            y + 2,
            ROW - 4,
            LABEL + length + 4,
            y + 13,
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_bars_scale_to_the_largest_value() {
        assert_eq!(text_bar(100, 100).chars().count(), TEXT_BAR_WIDTH);
        assert_eq!(text_bar(50, 100), "█".repeat(TEXT_BAR_WIDTH / 2));
        assert_eq!(text_bar(1, 1000), "▏");
        assert_eq!(text_bar(0, 1000), "");
    }

    #[test]
    fn svg_bars_have_one_rect_per_value_and_escaped_labels() {
        let svg = svg_bars(
            "fan-out",
            &[("10.0.0.1 (<lab>)".into(), 40), ("10.0.0.2".into(), 20)],
        );
        assert_eq!(svg.matches("<rect").count(), 2);
        assert!(svg.contains("width=\"360\""));
        assert!(svg.contains("width=\"180\""));
        assert!(svg.contains("10.0.0.1 (&lt;lab&gt;)"));
    }
}
