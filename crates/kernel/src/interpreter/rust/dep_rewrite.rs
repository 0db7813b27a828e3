//! Bare `:dep flow_edge_widgets` and `:dep flow_edge` lines become path dependencies.
//!
//! Notebooks then carry no machine-specific path: the kernel knows where the workspace is
//! (`FLOW_EDGE_HOME` from the kernelspec, else the workspace it was built from).

use std::path::{Path, PathBuf};

/// Environment variable naming the flow-edge workspace root.
pub(crate) const HOME_ENV: &str = "FLOW_EDGE_HOME";

/// The workspace crates a notebook may load by bare name: (names accepted, package, path
/// below the workspace root).
const WORKSPACE_CRATES: &[(&[&str], &str, &str)] = &[
    (
        &["flow_edge_widgets", "flow-edge-widgets"],
        "flow-edge-widgets",
        "crates/widgets",
    ),
    (&["flow_edge", "flow-edge"], "flow-edge", ""),
];

/// The workspace root to resolve bare `:dep`s against.
pub fn workspace_root() -> PathBuf {
    match std::env::var_os(HOME_ENV) {
        Some(home) if !home.is_empty() => PathBuf::from(home),
        _ => compiled_workspace_root(),
    }
}

/// The workspace this binary was built from (two levels above this crate).
pub(crate) fn compiled_workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .and_then(Path::parent)
        .unwrap_or(manifest_dir)
        .to_path_buf()
}

/// Rewrites every bare `:dep <workspace crate>` line of `code`; other lines stay as they are.
pub(crate) fn rewrite(code: &str, root: &Path) -> String {
    code.split_inclusive('\n')
        .map(|line| rewrite_line(line, root).unwrap_or_else(|| line.to_owned()))
        .collect()
}

fn rewrite_line(line: &str, root: &Path) -> Option<String> {
    let name = line.trim().strip_prefix(":dep")?;
    if !name.starts_with(char::is_whitespace) {
        return None;
    }
    let name = name.trim();
    let (_, package, below) = WORKSPACE_CRATES
        .iter()
        .find(|(names, _, _)| names.contains(&name))?;
    let path = if below.is_empty() {
        root.to_path_buf()
    } else {
        root.join(below)
    };
    let path = path
        .to_string_lossy()
        .replace('\\', "\\\\")
        .replace('"', "\\\"");
    let newline = if line.ends_with('\n') { "\n" } else { "" };
    Some(format!(":dep {package} = {{ path = \"{path}\" }}{newline}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_workspace_deps_become_path_deps_under_the_root() {
        let code = ":dep flow_edge_widgets\n:dep flow_edge\nlet x = 1;";
        assert_eq!(
            rewrite(code, Path::new("/opt/flow edge")),
            ":dep flow-edge-widgets = { path = \"/opt/flow edge/crates/widgets\" }\n\
             :dep flow-edge = { path = \"/opt/flow edge\" }\nlet x = 1;"
        );
    }

    #[test]
    fn deps_with_a_version_or_other_crates_are_left_alone() {
        let code = ":dep flow_edge_widgets = \"0.1\"\n:dep serde\n:dependency flow_edge";
        assert_eq!(rewrite(code, Path::new("/w")), code);
    }
}
