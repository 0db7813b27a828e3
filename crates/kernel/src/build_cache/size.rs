//! How much disk a slot takes, and its display.

use std::path::Path;
use std::time::SystemTime;

/// One slot as `flow-edge-kernel cache` shows it.
#[derive(Debug, Clone)]
pub struct SlotUsage {
    pub index: usize,
    /// Bytes of the files under the slot's folder (0 when it does not exist).
    pub bytes: u64,
    /// A kernel (or a warm-up) holds the slot's lock.
    pub in_use: bool,
    /// When a kernel last took the slot (its lock file's modification time).
    pub last_used: Option<SystemTime>,
}

/// The total size of the regular files under `dir`, not following symbolic links. Files
/// that vanish while counting (a build running next door) count as empty.
pub fn tree_bytes(dir: &Path) -> u64 {
    let mut total = 0;
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(metadata) = entry.metadata() else {
                continue;
            };
            if metadata.is_dir() {
                pending.push(entry.path());
            } else if metadata.is_file() {
                total += metadata.len();
            }
        }
    }
    total
}

/// `1.5 GiB`, `320.0 MiB`, `12 B`.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    // Display only: the precision lost converting to f64 does not show in one decimal.
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_in_binary_units() {
        assert_eq!(human_bytes(12), "12 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 * 1024 * 1024 * 1024), "3.0 GiB");
    }

    #[test]
    fn a_tree_counts_its_files_below_every_folder() {
        let dir = std::env::temp_dir().join(format!("flow-edge-tree-bytes-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("a/b")).unwrap();
        std::fs::write(dir.join("one"), [0u8; 10]).unwrap();
        std::fs::write(dir.join("a/b/two"), [0u8; 32]).unwrap();
        let counted = tree_bytes(&dir);
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(counted, 42);
    }
}
