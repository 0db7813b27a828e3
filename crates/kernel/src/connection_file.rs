//! Reading the connection file Jupyter passes to a kernel it starts.

use jupyter_protocol::ConnectionInfo;
use std::fmt;
use std::path::{Path, PathBuf};

/// Why the connection file could not be used.
#[derive(Debug)]
pub enum ConnectionFileError {
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        reason: String,
    },
}

impl fmt::Display for ConnectionFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectionFileError::Read { path, error } => {
                write!(f, "cannot read connection file {}: {error}", path.display())
            }
            ConnectionFileError::Parse {
                path,
                line,
                column,
                reason,
            } => write!(
                f,
                "{}:{line}:{column}: not a Jupyter connection file: {reason}",
                path.display()
            ),
        }
    }
}

impl std::error::Error for ConnectionFileError {}

/// Reads ports, transport and signing key from `path`, with the file's text (what a kernel
/// hands to a standby).
pub fn read(path: &Path) -> Result<(ConnectionInfo, String), ConnectionFileError> {
    let text = std::fs::read_to_string(path).map_err(|error| ConnectionFileError::Read {
        path: path.to_path_buf(),
        error,
    })?;
    let info = serde_json::from_str(&text).map_err(|error| ConnectionFileError::Parse {
        path: path.to_path_buf(),
        line: error.line(),
        column: error.column(),
        reason: error.to_string(),
    })?;
    Ok((info, text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_connection_file_is_reported_with_its_position() {
        let path = std::env::temp_dir().join(format!("flow-edge-conn-{}.json", std::process::id()));
        std::fs::write(
            &path,
            "{\n  \"ip\": \"127.0.0.1\",\n  \"shell_port\": oops\n}",
        )
        .unwrap();
        let error = read(&path).unwrap_err().to_string();
        std::fs::remove_file(&path).unwrap();
        assert!(error.contains(":3:"), "{error}");
        assert!(error.contains("not a Jupyter connection file"), "{error}");
    }
}
