//! Turning evcxr's outputs into notebook outputs: the cell's value versus its displays.
//!
//! evcxr collects every `EVCXR_BEGIN_CONTENT <mime>` block of a cell into one map, whether
//! it came from the final expression (the cell's value) or from an explicit display in a
//! statement. A cell that ends in an expression gets an `execute_result`; a cell that ends in
//! a statement or an item showed something on purpose and gets a `display_data`.

use super::lexer;
use crate::interpreter::{Bundle, CellOutput};
use serde_json::Value;
use std::time::Duration;

/// Sorts evcxr's outputs of `code` into value and displays.
pub(crate) fn cell_output(code: &str, outputs: evcxr::EvalOutputs) -> CellOutput {
    let mut cell = CellOutput::default();
    if !outputs.content_by_mime_type.is_empty() {
        let bundle: Bundle = outputs
            .content_by_mime_type
            .into_iter()
            .map(|(mime_type, content)| {
                let value = mime_value(&mime_type, content);
                (mime_type, value)
            })
            .collect();
        if ends_in_value(code) {
            cell.value = Some(bundle);
        } else {
            cell.displays.push(bundle);
        }
    }
    if let Some(took) = outputs.timing {
        let mut bundle = Bundle::new();
        bundle.insert(
            "text/plain".into(),
            Value::String(timing_text(
                took,
                outputs
                    .phases
                    .iter()
                    .map(|phase| (phase.name.as_str(), phase.duration)),
            )),
        );
        cell.displays.push(bundle);
    }
    cell
}

/// `:timing`'s line: the cell's time, then evcxr's phases (finding the types of new
/// variables with rust-analyzer, "Final compile" by cargo and rustc, "Execution" with the
/// dylib load), so a slow cell says where its time went.
fn timing_text<'a>(took: Duration, phases: impl Iterator<Item = (&'a str, Duration)>) -> String {
    let mut text = format!("Took {} ms", took.as_millis());
    let named: Vec<String> = phases
        .map(|(name, duration)| format!("{name} {} ms", duration.as_millis()))
        .collect();
    if !named.is_empty() {
        text.push_str(&format!(" ({})", named.join(", ")));
    }
    text
}

/// JSON mime types travel as JSON objects, the rest as text.
fn mime_value(mime_type: &str, content: String) -> Value {
    let is_json = mime_type == "application/json"
        || (mime_type.starts_with("application/") && mime_type.ends_with("+json"));
    if is_json {
        serde_json::from_str(&content).unwrap_or(Value::String(content))
    } else {
        Value::String(content)
    }
}

/// Keywords that start an item or a statement without a value.
const NO_VALUE_STARTS: &[&str] = &[
    "fn",
    "pub",
    "struct",
    "enum",
    "impl",
    "trait",
    "mod",
    "use",
    "extern",
    "static",
    "const",
    "type",
    "macro_rules",
    "let",
    "for",
    "while",
    "unsafe fn",
    "async fn",
    "#",
];

/// True when the cell ends in an expression whose value evcxr displays, or is made only of
/// evcxr commands (whose output plays the part of the value).
pub(crate) fn ends_in_value(code: &str) -> bool {
    let cleaned = lexer::scan(code).code;
    let rust_lines: Vec<&str> = cleaned
        .lines()
        .filter(|line| !line.trim_start().starts_with(':'))
        .collect();
    let rust = rust_lines.join("\n");
    let rust = rust.trim_end();
    if rust.is_empty() {
        return true;
    }
    if rust.ends_with(';') {
        return false;
    }
    let last_statement = last_top_level_statement(rust).trim_start();
    !NO_VALUE_STARTS.iter().any(|start| {
        last_statement.strip_prefix(start).is_some_and(|rest| {
            *start == "#" || rest.starts_with(|c: char| !c.is_alphanumeric() && c != '_')
        })
    })
}

/// The text after the last `;` outside brackets.
fn last_top_level_statement(code: &str) -> &str {
    let mut depth = 0i32;
    let mut start = 0;
    for (index, character) in code.char_indices() {
        match character {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            ';' if depth == 0 => start = index + 1,
            _ => {}
        }
    }
    &code[start..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timing_names_each_phase_of_the_cell() {
        let phases = [
            ("Final compile", Duration::from_millis(800)),
            ("Execution", Duration::from_millis(30)),
        ];
        assert_eq!(
            timing_text(Duration::from_millis(834), phases.into_iter()),
            "Took 834 ms (Final compile 800 ms, Execution 30 ms)"
        );
        assert_eq!(
            timing_text(Duration::from_millis(5), std::iter::empty()),
            "Took 5 ms"
        );
    }

    #[test]
    fn a_final_expression_is_the_value() {
        assert!(ends_in_value("let x = 1;\nx + 1"));
        assert!(ends_in_value(
            "let b = VBox::new([a.widget()]);\nb // shown"
        ));
        assert!(ends_in_value("if ok { 1 } else { 2 }"));
    }

    #[test]
    fn a_statement_or_an_item_at_the_end_has_no_value() {
        assert!(!ends_in_value(
            "println!(\"EVCXR_BEGIN_CONTENT text/html\\n<b>x</b>\\nEVCXR_END_CONTENT\");"
        ));
        assert!(!ends_in_value("fn double(x: i32) -> i32 { x * 2 }"));
        assert!(!ends_in_value("let x = 1; // trailing comment"));
        assert!(!ends_in_value("for i in 0..3 { show(i); }"));
    }

    #[test]
    fn a_cell_of_commands_only_shows_their_output_as_the_value() {
        assert!(ends_in_value(":vars"));
        assert!(!ends_in_value(":dep foo = \"1\"\nlet x = 1;"));
    }

    #[test]
    fn json_mime_types_become_objects_and_others_stay_text() {
        let view = mime_value(
            "application/vnd.jupyter.widget-view+json",
            "{\"model_id\":\"m\"}".into(),
        );
        assert_eq!(view, serde_json::json!({"model_id": "m"}));
        assert_eq!(
            mime_value("text/html", "<b>".into()),
            Value::String("<b>".into())
        );
    }
}
