//! evcxr's failures as Jupyter errors: ename, evalue, traceback.

use crate::interpreter::ErrorReport;

/// Describes an evcxr failure; `interrupted` says the user asked to stop the cell.
pub(crate) fn report(error: &evcxr::Error, interrupted: bool) -> ErrorReport {
    match error {
        evcxr::Error::CompilationErrors(errors) => compilation_report(errors),
        evcxr::Error::SubprocessTerminated(_) if interrupted => ErrorReport::single(
            "Interrupted",
            String::from(
                "The cell was interrupted. evcxr restarted its subprocess: variables and widgets \
                 of earlier cells are gone.",
            ),
        ),
        evcxr::Error::SubprocessTerminated(message) => {
            ErrorReport::single("SubprocessTerminated", message.clone())
        }
        evcxr::Error::TypeRedefinedVariablesLost(_) => {
            ErrorReport::single("VariablesLost", error.to_string())
        }
        evcxr::Error::Message(message) => ErrorReport::single("Error", message.clone()),
    }
}

/// A cell that panicked: evcxr reports success, the panic report came on stderr.
pub(crate) fn panic_report(report: &str) -> ErrorReport {
    let lines: Vec<String> = report
        .lines()
        .take_while(|line| {
            !line.starts_with("note: run with") && !line.starts_with("stack backtrace:")
        })
        .map(str::to_owned)
        .collect();
    let message = lines
        .get(1..)
        .map(|rest| rest.join("\n"))
        .unwrap_or_default();
    ErrorReport {
        ename: String::from("Panic"),
        evalue: if message.is_empty() {
            lines.concat()
        } else {
            message
        },
        traceback: lines,
    }
}

/// All compile errors of a cell in one report, each rendered against the user's own code.
fn compilation_report(errors: &[evcxr::CompilationError]) -> ErrorReport {
    let mut traceback = Vec::new();
    for error in errors {
        if error.is_from_user_code() {
            traceback.extend(user_code_lines(error));
        } else {
            traceback.extend(error.rendered().lines().map(str::to_owned));
        }
    }
    ErrorReport {
        ename: String::from("CompileError"),
        evalue: errors
            .iter()
            .map(evcxr::CompilationError::message)
            .collect::<Vec<_>>()
            .join("\n"),
        traceback,
    }
}

/// The offending lines of the cell with carets under the span, then the message and help.
fn user_code_lines(error: &evcxr::CompilationError) -> Vec<String> {
    let mut lines = Vec::new();
    for spanned in error.spanned_messages() {
        lines.extend(spanned.lines.iter().cloned());
        match &spanned.span {
            Some(span) => {
                let width = span.end_column.saturating_sub(span.start_column).max(1);
                lines.push(format!(
                    "{}{} {}",
                    " ".repeat(span.start_column.saturating_sub(1)),
                    "^".repeat(width),
                    spanned.label
                ));
            }
            None => lines.push(spanned.label.clone()),
        }
    }
    let code = error
        .code()
        .map(|code| format!("[{code}]"))
        .unwrap_or_default();
    lines.push(format!("{}{code}: {}", error.level(), error.message()));
    lines.extend(error.help().into_iter().map(|help| format!("help: {help}")));
    lines
}
