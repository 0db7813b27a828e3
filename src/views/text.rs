//! Text tables for the REPL and the command line, drawn with comfy-table (no terminal
//! detection: the output may go to a notebook, a pipe or a file).

use comfy_table::{presets, CellAlignment, ContentArrangement, Table};

/// A table with these column titles; `numeric` columns are right-aligned.
pub(crate) fn table(headers: &[&str], numeric: &[usize]) -> Table {
    let mut table = Table::new();
    table
        .load_style(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(headers.to_vec());
    for &index in numeric {
        if let Some(column) = table.column_mut(index) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    table
}
