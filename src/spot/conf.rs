//! The Spot configuration file (`/etc/duxbay.conf`, later `/etc/spot.conf`), read without a shell.
//!
//! The original notebook ran `source /etc/duxbay.conf` in a shell, so any line of that file could
//! run a command. Here the file is parsed as data: `KEY=VALUE` lines with the shell's quoting
//! (`'single'`, `"double"`, backslash escapes), `#` comments, an optional `export`, bash arrays
//! (`NODES=('a' 'b')`, whose scalar value is the first element, as `$NODES` is in bash) and
//! `$VAR` / `${VAR}` expansion of keys defined earlier in the file or passed in as seeds. Command
//! substitution, other parameter expansions and anything that is not an assignment are errors
//! with the file, line and column, never executed.
//!
//! ```
//! use flow_edge::spot::conf::SpotConfig;
//! let text = "LUSER='/home/duxbury'\nLPATH=${LUSER}/ml/${DSOURCE}/${FDATE}\n";
//! let conf = SpotConfig::parse(text, "spot.conf", &[("DSOURCE", "flow"), ("FDATE", "20160122")])?;
//! assert_eq!(conf.require("LPATH")?, "/home/duxbury/ml/flow/20160122");
//! # Ok::<(), flow_edge::spot::conf::ConfigError>(())
//! ```

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// Where Spot keeps its configuration: the original notebook's file first, then the newer name.
pub const DEFAULT_PATHS: [&str; 2] = ["/etc/duxbay.conf", "/etc/spot.conf"];

/// A parsed Spot configuration: the value of every key, after quoting and expansion.
#[derive(Debug, Clone)]
pub struct SpotConfig {
    path: PathBuf,
    entries: HashMap<String, Entry>,
}

/// One assignment: its value, where it was made, and the variables it referred to that had no
/// value (the shell would have expanded them to nothing; we remember them to explain an empty or
/// truncated value later).
#[derive(Debug, Clone)]
struct Entry {
    words: Vec<String>,
    line: usize,
    undefined: Vec<String>,
}

/// Why the configuration could not be read or lacks what is needed.
#[derive(Debug)]
pub enum ConfigError {
    /// None of the files tried exists.
    NotFound { tried: Vec<PathBuf> },
    /// The file exists but could not be read.
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A line is not something this parser accepts.
    Syntax {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    /// A key the caller needs is not assigned (or is assigned an empty value).
    MissingKey { path: PathBuf, key: String },
    /// A key the caller needs refers to variables that were never defined.
    UndefinedVariable {
        path: PathBuf,
        line: usize,
        key: String,
        variables: Vec<String>,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::NotFound { tried } => {
                let names: Vec<String> = tried.iter().map(|p| p.display().to_string()).collect();
                write!(
                    f,
                    "no Spot configuration found (tried {})",
                    names.join(", ")
                )
            }
            ConfigError::Io { path, source } => {
                write!(
                    f,
                    "{}: cannot read the configuration: {source}",
                    path.display()
                )
            }
            ConfigError::Syntax {
                path,
                line,
                column,
                message,
            } => write!(f, "{}:{line}:{column}: {message}", path.display()),
            ConfigError::MissingKey { path, key } => {
                write!(f, "{}: {key} is not set", path.display())
            }
            ConfigError::UndefinedVariable {
                path,
                line,
                key,
                variables,
            } => write!(
                f,
                "{}:{line}: {key} refers to {}, which {} not defined",
                path.display(),
                variables
                    .iter()
                    .map(|v| format!("${v}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                if variables.len() == 1 { "is" } else { "are" }
            ),
        }
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ConfigError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl SpotConfig {
    /// Reads the first of [`DEFAULT_PATHS`] that exists.
    pub fn load_default(seeds: &[(&str, &str)]) -> Result<Self, ConfigError> {
        let tried: Vec<PathBuf> = DEFAULT_PATHS.iter().map(PathBuf::from).collect();
        match tried.iter().find(|p| p.is_file()) {
            Some(path) => Self::load(path, seeds),
            None => Err(ConfigError::NotFound { tried }),
        }
    }

    /// Reads and parses one file. `seeds` are variables defined before the file is read, as the
    /// original set `DSOURCE` and `FDATE` before `source`-ing it.
    pub fn load(path: impl AsRef<Path>, seeds: &[(&str, &str)]) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                ConfigError::NotFound {
                    tried: vec![path.to_path_buf()],
                }
            } else {
                ConfigError::Io {
                    path: path.to_path_buf(),
                    source,
                }
            }
        })?;
        Self::parse(&text, path, seeds)
    }

    /// Parses configuration text; `path` is only used in messages.
    pub fn parse(
        text: &str,
        path: impl AsRef<Path>,
        seeds: &[(&str, &str)],
    ) -> Result<Self, ConfigError> {
        let path = path.as_ref().to_path_buf();
        let mut entries: HashMap<String, Entry> = seeds
            .iter()
            .map(|(k, v)| {
                let entry = Entry {
                    words: vec![(*v).to_string()],
                    line: 0,
                    undefined: Vec::new(),
                };
                ((*k).to_string(), entry)
            })
            .collect();
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        for (index, line) in text.lines().enumerate() {
            let number = index + 1;
            let parsed =
                LineParser::new(line, &entries)
                    .assignment()
                    .map_err(|(column, message)| ConfigError::Syntax {
                        path: path.clone(),
                        line: number,
                        column,
                        message,
                    })?;
            if let Some((key, words, undefined)) = parsed {
                let entry = Entry {
                    words,
                    line: number,
                    undefined,
                };
                entries.insert(key, entry);
            }
        }
        Ok(SpotConfig { path, entries })
    }

    /// The file this configuration came from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The value of `key` (the first element for an array), if it is assigned.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .get(key)
            .map(|e| e.words.first().map(String::as_str).unwrap_or(""))
    }

    /// All elements of an array key (one element for a scalar).
    pub fn get_all(&self, key: &str) -> Option<&[String]> {
        self.entries.get(key).map(|e| e.words.as_slice())
    }

    /// The value of a key the caller cannot do without: an error if it is unset, empty, or
    /// built from variables that were never defined.
    pub fn require(&self, key: &str) -> Result<&str, ConfigError> {
        let missing = || ConfigError::MissingKey {
            path: self.path.clone(),
            key: key.to_string(),
        };
        let entry = self.entries.get(key).ok_or_else(missing)?;
        if !entry.undefined.is_empty() {
            return Err(ConfigError::UndefinedVariable {
                path: self.path.clone(),
                line: entry.line,
                key: key.to_string(),
                variables: entry.undefined.clone(),
            });
        }
        match entry.words.first() {
            Some(value) if !value.is_empty() => Ok(value),
            _ => Err(missing()),
        }
    }
}

/// The result of parsing one line: nothing (blank or comment) or a key, its words and the names
/// of undefined variables it used. Errors carry a 1-based column and a message.
type LineResult = Result<Option<(String, Vec<String>, Vec<String>)>, (usize, String)>;

/// A cursor over one line of the file, resolving variables against the entries seen so far.
struct LineParser<'a> {
    chars: Vec<char>,
    at: usize,
    known: &'a HashMap<String, Entry>,
    undefined: Vec<String>,
}

impl<'a> LineParser<'a> {
    fn new(line: &str, known: &'a HashMap<String, Entry>) -> Self {
        LineParser {
            chars: line.chars().collect(),
            at: 0,
            known,
            undefined: Vec::new(),
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<char> {
        self.chars.get(self.at + offset).copied()
    }

    fn column(&self) -> usize {
        self.at + 1
    }

    fn fail<T>(&self, message: impl Into<String>) -> Result<T, (usize, String)> {
        Err((self.column(), message.into()))
    }

    fn skip_blanks(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t')) {
            self.at += 1;
        }
    }

    fn at_end_or_comment(&self) -> bool {
        matches!(self.peek(), None | Some('#'))
    }

    fn assignment(mut self) -> LineResult {
        self.skip_blanks();
        if self.at_end_or_comment() {
            return Ok(None);
        }
        let mut key = self.name();
        if key == "export" && matches!(self.peek(), Some(' ' | '\t')) {
            self.skip_blanks();
            key = self.name();
        }
        if key.is_empty() {
            return self.fail("expected KEY=VALUE");
        }
        if self.peek() != Some('=') {
            return self.fail(format!(
                "expected '=' right after {key} (only KEY=VALUE assignments are read)"
            ));
        }
        self.at += 1;
        let words = if self.peek() == Some('(') {
            self.at += 1;
            self.array()?
        } else {
            vec![self.word()?]
        };
        self.skip_blanks();
        if !self.at_end_or_comment() {
            return self.fail(
                "unexpected text after the value (quote values that contain spaces; commands are not run)",
            );
        }
        Ok(Some((key, words, self.undefined)))
    }

    fn name(&mut self) -> String {
        let start = self.at;
        while let Some(c) = self.peek() {
            let allowed =
                c == '_' || c.is_ascii_alphabetic() || (self.at > start && c.is_ascii_digit());
            if !allowed {
                break;
            }
            self.at += 1;
        }
        self.chars[start..self.at].iter().collect()
    }

    fn array(&mut self) -> Result<Vec<String>, (usize, String)> {
        let mut words = Vec::new();
        loop {
            self.skip_blanks();
            match self.peek() {
                Some(')') => {
                    self.at += 1;
                    return Ok(words);
                }
                None | Some('#') => return self.fail("array not closed with ')' on this line"),
                Some(_) => words.push(self.word()?),
            }
        }
    }

    /// One shell word: unquoted, single- and double-quoted parts glued together, ending at
    /// unquoted whitespace, a comment, or (inside an array) a closing parenthesis.
    fn word(&mut self) -> Result<String, (usize, String)> {
        let mut out = String::new();
        while let Some(c) = self.peek() {
            match c {
                ' ' | '\t' | ')' => break,
                '\'' => self.single_quoted(&mut out)?,
                '"' => self.double_quoted(&mut out)?,
                '\\' => {
                    self.at += 1;
                    match self.peek() {
                        Some(escaped) => {
                            out.push(escaped);
                            self.at += 1;
                        }
                        None => return self.fail("line continuation with '\\' is not supported"),
                    }
                }
                '$' => self.expansion(&mut out)?,
                '`' => return self.fail("command substitution is not supported"),
                ';' | '&' | '|' | '<' | '>' | '(' => {
                    return self.fail(format!("'{c}' is shell syntax; quote the value"))
                }
                _ => {
                    out.push(c);
                    self.at += 1;
                }
            }
        }
        Ok(out)
    }

    fn single_quoted(&mut self, out: &mut String) -> Result<(), (usize, String)> {
        let open = self.column();
        self.at += 1;
        loop {
            match self.peek() {
                Some('\'') => {
                    self.at += 1;
                    return Ok(());
                }
                Some(c) => {
                    out.push(c);
                    self.at += 1;
                }
                None => return Err((open, "quote not closed on this line".to_string())),
            }
        }
    }

    fn double_quoted(&mut self, out: &mut String) -> Result<(), (usize, String)> {
        let open = self.column();
        self.at += 1;
        loop {
            match self.peek() {
                Some('"') => {
                    self.at += 1;
                    return Ok(());
                }
                Some('\\') if matches!(self.peek_at(1), Some('$' | '`' | '"' | '\\')) => {
                    out.push(self.chars[self.at + 1]);
                    self.at += 2;
                }
                Some('$') => self.expansion(out)?,
                Some('`') => return self.fail("command substitution is not supported"),
                Some(c) => {
                    out.push(c);
                    self.at += 1;
                }
                None => return Err((open, "quote not closed on this line".to_string())),
            }
        }
    }

    /// `$NAME` or `${NAME}`; a `$` not followed by a name is a literal dollar sign.
    fn expansion(&mut self, out: &mut String) -> Result<(), (usize, String)> {
        let dollar = self.at;
        self.at += 1;
        let name = match self.peek() {
            Some('(') => {
                self.at = dollar;
                return self.fail("command substitution is not supported");
            }
            Some('{') => {
                self.at += 1;
                let name = self.name();
                if name.is_empty() || self.peek() != Some('}') {
                    self.at = dollar;
                    return self.fail("only ${NAME} expansions are supported");
                }
                self.at += 1;
                name
            }
            Some(c) if c == '_' || c.is_ascii_alphabetic() => self.name(),
            _ => {
                out.push('$');
                return Ok(());
            }
        };
        match self.known.get(&name) {
            Some(entry) => {
                out.push_str(entry.words.first().map(String::as_str).unwrap_or(""));
                for inherited in &entry.undefined {
                    if !self.undefined.contains(inherited) {
                        self.undefined.push(inherited.clone());
                    }
                }
            }
            None => {
                if !self.undefined.contains(&name) {
                    self.undefined.push(name);
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<SpotConfig, ConfigError> {
        SpotConfig::parse(text, "test.conf", &[])
    }

    #[test]
    fn the_spot_setup_file_reads_with_its_arrays_and_expansions() {
        let text = "#node configuration\nNODES=('node-01' 'node-02')\nMLNODE='node04'\n\
                    HUSER='/user/duxbury'\nHPATH=${HUSER}/${DSOURCE}/scored_results/${FDATE}\n\
                    KINITPATH=\nLUSER='/home/duxbury'\nLPATH=${LUSER}/ml/${DSOURCE}/${FDATE}\n\
                    PROCESS_COUNT=20\n";
        let conf = SpotConfig::parse(
            text,
            "spot.conf",
            &[("DSOURCE", "flow"), ("FDATE", "20160122")],
        )
        .expect("valid");
        assert_eq!(conf.get("MLNODE"), Some("node04"));
        assert_eq!(conf.get("NODES"), Some("node-01"));
        assert_eq!(
            conf.get_all("NODES"),
            Some(&["node-01".to_string(), "node-02".to_string()][..])
        );
        assert_eq!(
            conf.require("LPATH").expect("set"),
            "/home/duxbury/ml/flow/20160122"
        );
        assert_eq!(conf.get("KINITPATH"), Some(""));
        assert!(matches!(
            conf.require("KINITPATH"),
            Err(ConfigError::MissingKey { .. })
        ));
    }

    #[test]
    fn quotes_escapes_comments_and_export_follow_shell_rules() {
        let conf = parse(
            "export A=\"x y\" # note\nB='$A literal'\nC=\"$A and \\$A\"\nD=pre\\ fix$A\nE=a'b'\"c\"\n  # indented comment\n",
        )
        .expect("valid");
        assert_eq!(conf.get("A"), Some("x y"));
        assert_eq!(conf.get("B"), Some("$A literal"));
        assert_eq!(conf.get("C"), Some("x y and $A"));
        assert_eq!(conf.get("D"), Some("pre fixx y"));
        assert_eq!(conf.get("E"), Some("abc"));
    }

    #[test]
    fn windows_line_ends_and_a_byte_order_mark_are_accepted() {
        let conf = parse("\u{feff}MLNODE=node04\r\nLPATH='/p q'\r\n").expect("valid");
        assert_eq!(conf.get("MLNODE"), Some("node04"));
        assert_eq!(conf.get("LPATH"), Some("/p q"));
    }

    #[test]
    fn command_substitution_is_refused_with_its_position() {
        for (text, column) in [
            ("A=$(touch /tmp/x)\n", 3),
            ("A=\"`id`\"\n", 4),
            ("A=ok; rm -rf /\n", 5),
            ("A=1 B=2\n", 5),
        ] {
            match parse(text) {
                Err(ConfigError::Syntax {
                    line, column: c, ..
                }) => {
                    assert_eq!((line, c), (1, column), "{text}")
                }
                other => panic!("{text}: expected a syntax error, got {other:?}"),
            }
        }
    }

    #[test]
    fn an_unclosed_quote_points_at_the_opening_quote() {
        let err = parse("A=1\nB='open\n").expect_err("unclosed");
        assert_eq!(
            err.to_string(),
            "test.conf:2:3: quote not closed on this line"
        );
    }

    #[test]
    fn a_value_built_from_an_undefined_variable_is_reported_when_required() {
        let conf = parse("LUSER=/home/u\nLPATH=$LUSER/ml/$DSOURCE/${FDATE}\n").expect("valid");
        let err = conf.require("LPATH").expect_err("undefined");
        assert_eq!(
            err.to_string(),
            "test.conf:2: LPATH refers to $DSOURCE, $FDATE, which are not defined"
        );
        assert!(matches!(
            conf.require("MLNODE"),
            Err(ConfigError::MissingKey { .. })
        ));
    }

    #[test]
    fn a_missing_file_names_the_path() {
        let err = SpotConfig::load("/nonexistent/duxbay.conf", &[]).expect_err("missing");
        assert_eq!(
            err.to_string(),
            "no Spot configuration found (tried /nonexistent/duxbay.conf)"
        );
    }
}
