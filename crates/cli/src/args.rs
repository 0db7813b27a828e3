//! Command-line parsing: a subcommand, a day folder, `--name value` options
//! and `--flag` switches. Hand-written to keep the tool light; mistakes are
//! usage errors (exit code 2) with the usage text.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

/// The usage text printed with every usage error and for `--help`.
pub const USAGE: &str = "\
usage: flow-edge <command> <day-folder> [options]

The day folder holds flow_scores.csv (<oa>/data/flow/<date>/). With
--notebook, it is the notebook folder <oa>/ipynb/flow/<date>/ instead.

commands:
  lists <day>     values of the listboxes (unscored rows among the first coff rows)
                  --coff N       rows to look at (default 250)
  score <day>     give matching connections a severity and feed them back
                  --rating 1|2|3 (required) and at least one of
                  --ip ADDR      quick IP: source or destination
                  --src ADDR  --dst ADDR  --sport PORT  --dport PORT
  save <day>      sort: unscored rows by lda_score, then severity 1, 2, 3
  restore <day>   make flow_scores.csv a copy of flow_scores_bu.csv
  generate <dir>  write a seeded synthetic flow_scores.csv (never over an existing one)
                  --rows N (required)  --seed S  --wide  --shuffle
                  --scored SHARE  --ipv6 SHARE  --crlf
                  --realistic    scanners send small probes (the original's rules
                                 catch them) and hosts carry Spot-style reputation,
                                 geo and domain
  rules <day>     give severities by rules in one pass (first matching rule wins);
                  rows with a severity are left alone, rule verdicts are not feedback
                  --file RULES   rules file, one per line: `dport <= 1024 and ibyt <= 54 -> 2`
                                 (default: the original notebook's three rules)
                  --with-unapplied  add the original's fourth, never-applied rule
                  --rescore      also change rows that already have a severity
                  --feedback     append the scored rows to the feedback file
                  --check        read and list the rules, change nothing
  heuristics <day>  sources that fan out: many distinct destinations, or many rows
                  --count destinations|rows  what to count (default destinations, as
                                 the original's documentation says; rows is what its
                                 code ran)
                  --threshold N  list sources whose count is above N (default 20)
                  --nwloc FILE   network context (default <oa>/context/networkcontext.csv)
  upload <day>    send flow_scores_fb.csv to <user>@MLNODE:LPATH/flow_scores.csv by scp
                  --config FILE  Spot configuration (default /etc/duxbay.conf, then
                                 /etc/spot.conf)
                  --port N  --identity KEY  --known-hosts FILE  --ssh-config FILE
                  --timeout SECONDS   give up connecting after this (default 10)
                  --deadline SECONDS  stop the whole upload after this (default 120)

options for every command:
  --json          machine-readable output on stdout
  --notebook      the folder is a notebook folder
  --lock-wait S   seconds to wait while another operation holds the day (default 30,
                  or FLOW_EDGE_LOCK_WAIT); then fail, naming the holder
  --help          this text

lists and heuristics only read: they need read access only, and an operation
a crash interrupted is left for the next writing command to recover.

exit codes: 0 success, 1 bad input or failed operation, 2 usage error
";

/// A command line that does not follow the usage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}\n\n{USAGE}", self.0)
    }
}

/// A parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Args {
    /// The subcommand.
    pub command: String,
    /// The folder it works on.
    pub folder: PathBuf,
    values: BTreeMap<String, String>,
    switches: Vec<String>,
}

/// Options that take a value, per command; switches every command accepts.
fn value_options(command: &str) -> Option<&'static [&'static str]> {
    Some(match command {
        "lists" => &["coff", "lock-wait"],
        "score" => &["rating", "ip", "src", "dst", "sport", "dport", "lock-wait"],
        "save" | "restore" => &["lock-wait"],
        "generate" => &["rows", "seed", "scored", "ipv6"],
        "rules" => &["file", "lock-wait"],
        "heuristics" => &["count", "threshold", "nwloc", "lock-wait"],
        "upload" => &[
            "config",
            "port",
            "identity",
            "timeout",
            "deadline",
            "known-hosts",
            "ssh-config",
            "lock-wait",
        ],
        _ => return None,
    })
}

fn switch_options(command: &str) -> &'static [&'static str] {
    match command {
        "generate" => &["json", "notebook", "wide", "shuffle", "crlf", "realistic"],
        "rules" => &[
            "json",
            "notebook",
            "with-unapplied",
            "rescore",
            "feedback",
            "check",
        ],
        _ => &["json", "notebook"],
    }
}

impl Args {
    /// Parses the arguments after the program name. `Ok(None)` means help was
    /// asked for.
    pub fn parse(arguments: &[String]) -> Result<Option<Args>, UsageError> {
        if arguments.is_empty() || arguments.iter().any(|a| a == "--help" || a == "-h") {
            return if arguments.is_empty() {
                Err(UsageError("no command given".to_owned()))
            } else {
                Ok(None)
            };
        }
        let command = arguments[0].clone();
        let takes_value = value_options(&command)
            .ok_or_else(|| UsageError(format!("unknown command {command:?}")))?;
        let switches_allowed = switch_options(&command);
        let mut folder = None;
        let mut values = BTreeMap::new();
        let mut switches = Vec::new();
        let mut rest = arguments[1..].iter();
        while let Some(argument) = rest.next() {
            if let Some(name) = argument.strip_prefix("--") {
                if takes_value.contains(&name) {
                    let value = rest
                        .next()
                        .ok_or_else(|| UsageError(format!("--{name} needs a value")))?;
                    if values.insert(name.to_owned(), value.clone()).is_some() {
                        return Err(UsageError(format!("--{name} given twice")));
                    }
                } else if switches_allowed.contains(&name) {
                    switches.push(name.to_owned());
                } else {
                    return Err(UsageError(format!("{command} has no option --{name}")));
                }
            } else if folder.is_none() {
                folder = Some(PathBuf::from(argument));
            } else {
                return Err(UsageError(format!("unexpected argument {argument:?}")));
            }
        }
        let folder = folder.ok_or_else(|| UsageError(format!("{command} needs a folder")))?;
        Ok(Some(Args {
            command,
            folder,
            values,
            switches,
        }))
    }

    /// The value of `--name`, if given.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// The value of `--name` parsed as a number, if given.
    pub fn number<T: std::str::FromStr>(&self, name: &str) -> Result<Option<T>, UsageError> {
        self.value(name)
            .map(|text| {
                text.parse()
                    .map_err(|_| UsageError(format!("--{name} {text:?} is not a number")))
            })
            .transpose()
    }

    /// Whether `--name` was given.
    pub fn switch(&self, name: &str) -> bool {
        self.switches.iter().any(|switch| switch == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<Option<Args>, UsageError> {
        let arguments: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
        Args::parse(&arguments)
    }

    #[test]
    fn a_score_line_gives_its_folder_values_and_switches() {
        let args = parse("score /d --ip 10.0.0.1 --rating 2 --json")
            .unwrap()
            .unwrap();
        assert_eq!(args.folder, PathBuf::from("/d"));
        assert_eq!(args.value("ip"), Some("10.0.0.1"));
        assert_eq!(args.number::<u8>("rating").unwrap(), Some(2));
        assert!(args.switch("json"));
    }

    #[test]
    fn mistakes_are_usage_errors() {
        for line in [
            "",
            "frobnicate /d",
            "score",
            "score /d --rating",
            "lists /d --ip 1.2.3.4",
            "save /d /e",
            "score /d --rating 1 --rating 2",
        ] {
            assert!(parse(line).is_err(), "{line:?} was accepted");
        }
        assert_eq!(parse("save --help").unwrap(), None);
    }
}
