//! What a standby must share with a kernel that adopts it: the configuration (binary and
//! environment) and the library's sources as they were when it warmed up.

use std::ffi::OsString;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::UNIX_EPOCH;

/// Variables that differ between two kernels of one configuration: Jupyter's per-kernel
/// ones and what shells add.
fn varies_per_kernel(name: &[u8]) -> bool {
    name.starts_with(b"JPY_") || matches!(name, b"PWD" | b"OLDPWD" | b"SHLVL" | b"_")
}

/// A hex digest of this binary (path, size, modification time) and of `environment` minus
/// the per-kernel variables: two processes with the same digest run the same kernel the
/// same way. It names the standby's files, so a kernel finds only a standby like itself.
pub fn configuration(environment: &[(OsString, OsString)]) -> String {
    let mut hasher = DefaultHasher::new();
    match std::env::current_exe().and_then(|exe| {
        let metadata = std::fs::metadata(&exe)?;
        Ok((exe, metadata))
    }) {
        Ok((exe, metadata)) => {
            exe.hash(&mut hasher);
            hash_size_and_time(&metadata, &mut hasher);
        }
        // No digest can then match another process's reliably: make it unique.
        Err(_) => std::process::id().hash(&mut hasher),
    }
    let mut variables: Vec<&(OsString, OsString)> = environment
        .iter()
        .filter(|(name, _)| !varies_per_kernel(name.as_bytes()))
        .collect();
    variables.sort();
    variables.hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

/// A digest of the library's sources under `workspace` (names, sizes, modification times of
/// the manifests and of every file below `src/` of the root and of `crates/*`): a standby
/// that warmed another version would give rust-analyzer's stale view of it to the notebook.
pub fn library_sources(workspace: &Path) -> u64 {
    let mut files = Vec::new();
    for manifest in ["Cargo.toml", "Cargo.lock"] {
        files.push(workspace.join(manifest));
    }
    collect_files(&workspace.join("src"), &mut files, 0);
    if let Ok(crates) = std::fs::read_dir(workspace.join("crates")) {
        for member in crates.flatten() {
            files.push(member.path().join("Cargo.toml"));
            collect_files(&member.path().join("src"), &mut files, 0);
        }
    }
    files.sort();
    let mut hasher = DefaultHasher::new();
    for file in files {
        file.hash(&mut hasher);
        if let Ok(metadata) = std::fs::metadata(&file) {
            hash_size_and_time(&metadata, &mut hasher);
        }
    }
    hasher.finish()
}

/// A file's size and modification time: what changes when it is rebuilt or edited.
fn hash_size_and_time(metadata: &std::fs::Metadata, hasher: &mut DefaultHasher) {
    metadata.len().hash(hasher);
    metadata
        .modified()
        .ok()
        .and_then(|at| at.duration_since(UNIX_EPOCH).ok())
        .hash(hasher);
}

/// Source folders are shallow; the bound keeps a symbolic-link loop from running forever.
const DEEPEST: usize = 16;

fn collect_files(dir: &Path, files: &mut Vec<std::path::PathBuf>, depth: usize) {
    if depth > DEEPEST {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        match entry.file_type() {
            Ok(kind) if kind.is_dir() => collect_files(&path, files, depth + 1),
            Ok(_) => files.push(path),
            Err(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
        pairs
            .iter()
            .map(|(name, value)| (OsString::from(name), OsString::from(value)))
            .collect()
    }

    #[test]
    fn jupyters_per_kernel_variables_do_not_change_the_configuration_others_do() {
        let first = configuration(&env(&[("HOME", "/h"), ("JPY_SESSION_NAME", "a.ipynb")]));
        let second = configuration(&env(&[("JPY_SESSION_NAME", "b.ipynb"), ("HOME", "/h")]));
        assert_eq!(first, second);
        let other = configuration(&env(&[("HOME", "/h"), ("FLOW_EDGE_HOME", "/src")]));
        assert_ne!(first, other);
        assert_eq!(first.len(), 16);
    }

    #[test]
    fn an_edited_source_file_changes_the_digest_an_untouched_tree_keeps_it() {
        let workspace = tempfile::tempdir().unwrap();
        let lib = workspace.path().join("crates/widgets/src/lib.rs");
        std::fs::create_dir_all(lib.parent().unwrap()).unwrap();
        std::fs::write(&lib, "pub fn a() {}").unwrap();
        std::fs::write(workspace.path().join("Cargo.toml"), "[package]").unwrap();
        let before = library_sources(workspace.path());
        assert_eq!(before, library_sources(workspace.path()));
        std::fs::write(&lib, "pub fn a() { let _ = 1; }").unwrap();
        assert_ne!(before, library_sources(workspace.path()));
    }
}
