//! The fake interpreter's cell language: one command per line.
//!
//! | line                  | what the cell does                                              |
//! |-----------------------|-----------------------------------------------------------------|
//! | `print TEXT`          | TEXT and a newline on stdout                                    |
//! | `eprint TEXT`         | the same on stderr                                              |
//! | `display HTML`        | shows HTML (a `display_data`)                                   |
//! | `value TEXT`          | makes TEXT the cell's value (an `execute_result`, `text/plain`) |
//! | `error ENAME EVALUE`  | fails with that error                                           |
//! | `sleep SECONDS`       | waits; an interrupt ends the wait and fails the cell            |
//! | `env NAME`            | prints the environment variable NAME, as cell code sees it     |
//! | `widget DESCRIPTION`  | opens a widget comm through the bridge, as the widgets library does |
//! | `restart`             | drops every bridge connection, as evcxr's restart ends its subprocess |
//!
//! Blank lines are skipped. A cell whose last line ends in `\` is incomplete (a console waits
//! for more); a line with an unknown command makes the cell invalid, and running it fails
//! before any line runs.

use crate::interpreter::{Completeness, Completions};
use std::fmt;
use std::time::Duration;

/// The command words, for completion and for the error that lists them.
const COMMANDS: &[&str] = &[
    "print", "eprint", "display", "value", "error", "sleep", "env", "widget", "restart",
];

/// One line of a cell.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Command {
    Print(String),
    Eprint(String),
    Display(String),
    Value(String),
    Error { ename: String, evalue: String },
    Sleep(Duration),
    Env(String),
    Widget(String),
    Restart,
}

/// Why a cell is not a script, and on which line (counted from 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ScriptError {
    line: usize,
    problem: Problem,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Problem {
    UnknownCommand(String),
    MissingArgument(&'static str),
    NotSeconds(String),
}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: ", self.line)?;
        match &self.problem {
            Problem::UnknownCommand(word) => write!(
                f,
                "unknown command {word:?} (the fake interpreter knows {})",
                COMMANDS.join(", ")
            ),
            Problem::MissingArgument(command) => write!(f, "{command} needs an argument"),
            Problem::NotSeconds(text) => write!(f, "{text:?} is not a number of seconds"),
        }
    }
}

/// The commands of `code`, in order.
pub(super) fn parse(code: &str) -> Result<Vec<Command>, ScriptError> {
    code.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(index, line)| {
            parse_line(line.trim()).map_err(|problem| ScriptError {
                line: index + 1,
                problem,
            })
        })
        .collect()
}

fn parse_line(line: &str) -> Result<Command, Problem> {
    let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
    let needed = |command: &'static str| {
        Some(rest.trim())
            .filter(|argument| !argument.is_empty())
            .map(str::to_owned)
            .ok_or(Problem::MissingArgument(command))
    };
    Ok(match word {
        "print" => Command::Print(rest.to_owned()),
        "eprint" => Command::Eprint(rest.to_owned()),
        "display" => Command::Display(needed("display")?),
        "value" => Command::Value(needed("value")?),
        "error" => {
            let argument = needed("error")?;
            let (ename, evalue) = argument.split_once(' ').unwrap_or((&argument, ""));
            Command::Error {
                ename: ename.to_owned(),
                evalue: evalue.trim().to_owned(),
            }
        }
        "sleep" => {
            let text = needed("sleep")?;
            let seconds = text
                .parse::<f64>()
                .ok()
                .filter(|seconds| seconds.is_finite() && *seconds >= 0.0)
                .ok_or(Problem::NotSeconds(text))?;
            Command::Sleep(Duration::from_secs_f64(seconds))
        }
        "env" => Command::Env(needed("env")?),
        "widget" => Command::Widget(needed("widget")?),
        "restart" => Command::Restart,
        other => return Err(Problem::UnknownCommand(other.to_owned())),
    })
}

/// Complete unless the last line asks for more (`\`); invalid when a command is unknown.
pub(super) fn completeness(code: &str) -> Completeness {
    let continued = code
        .lines()
        .last()
        .is_some_and(|line| line.trim_end().ends_with('\\'));
    if continued {
        Completeness::Incomplete {
            indent: String::new(),
        }
    } else if parse(code).is_err() {
        Completeness::Invalid
    } else {
        Completeness::Complete
    }
}

/// The command words that complete the first word of the line at `cursor_pos` (characters).
pub(super) fn complete(code: &str, cursor_pos: usize) -> Completions {
    let before: String = code.chars().take(cursor_pos).collect();
    let line = before.rsplit('\n').next().unwrap_or_default();
    let word = line.trim_start();
    let cursor_end = before.chars().count();
    if word.contains(' ') {
        return Completions {
            matches: Vec::new(),
            cursor_start: cursor_end,
            cursor_end,
        };
    }
    Completions {
        matches: COMMANDS
            .iter()
            .filter(|command| command.starts_with(word))
            .map(|command| (*command).to_owned())
            .collect(),
        cursor_start: cursor_end - word.chars().count(),
        cursor_end,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_line_is_one_command_with_the_rest_as_its_argument() {
        let cell =
            "print hello world\n\nerror NameError name 'x' is not defined\nsleep 0.5\nrestart";
        assert_eq!(
            parse(cell),
            Ok(vec![
                Command::Print("hello world".into()),
                Command::Error {
                    ename: "NameError".into(),
                    evalue: "name 'x' is not defined".into()
                },
                Command::Sleep(Duration::from_millis(500)),
                Command::Restart,
            ])
        );
    }

    #[test]
    fn a_bad_line_is_named_by_its_number() {
        let error = parse("print ok\nlaunch rockets").unwrap_err();
        assert!(error
            .to_string()
            .starts_with("line 2: unknown command \"launch\""));
        assert_eq!(
            parse("sleep soon").unwrap_err().to_string(),
            "line 1: \"soon\" is not a number of seconds"
        );
        assert_eq!(
            parse("widget").unwrap_err().to_string(),
            "line 1: widget needs an argument"
        );
    }

    #[test]
    fn a_trailing_backslash_asks_for_more_and_an_unknown_command_is_invalid() {
        assert_eq!(completeness("print a"), Completeness::Complete);
        assert_eq!(
            completeness("print a \\"),
            Completeness::Incomplete {
                indent: String::new()
            }
        );
        assert_eq!(completeness("jump"), Completeness::Invalid);
    }

    #[test]
    fn the_first_word_completes_to_commands_counted_in_characters() {
        let code = "print é\nsl";
        let found = complete(code, code.chars().count());
        assert_eq!(found.matches, ["sleep"]);
        assert_eq!((found.cursor_start, found.cursor_end), (8, 10));
        assert!(complete("print x", 7).matches.is_empty());
    }
}
