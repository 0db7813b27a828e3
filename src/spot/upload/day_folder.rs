//! The Spot variables of a day folder, and the configuration read with them.
//!
//! The original set `DSOURCE` (the data source, `flow`) and `FDATE` (the day) from the day
//! folder `<oa>/data/<source>/<date>` before reading the configuration, whose `LPATH` is
//! usually built from them. A relative folder (`flow-edge upload .`) names neither, so the
//! folder is made absolute first, the way the shell shows it: from the shell's `$PWD` when
//! that is the working folder, with `.` and `..` resolved by name. Resolving symbolic links
//! instead (`canonicalize`) would take the names of a linked day folder's target, and send
//! the feedback to another `LPATH`; it is only used when the names lead elsewhere.

use super::UploadError;
use crate::spot::conf::SpotConfig;
use crate::Error;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

/// The variables the original defined before reading the configuration: `DSOURCE` and `FDATE`,
/// the last two names of `day_dir` (which [`load_day_config`] makes absolute first).
pub fn day_variables(day_dir: &Path) -> Vec<(&str, &str)> {
    let date = day_dir.file_name().and_then(|n| n.to_str());
    let source = day_dir
        .parent()
        .and_then(Path::file_name)
        .and_then(|n| n.to_str());
    let mut vars = Vec::new();
    if let Some(source) = source {
        vars.push(("DSOURCE", source));
    }
    if let Some(date) = date {
        vars.push(("FDATE", date));
    }
    vars
}

/// Reads the Spot configuration (`conf`, or `/etc/duxbay.conf` then `/etc/spot.conf`) with the
/// variables of the day folder `day_dir`, relative or not.
pub fn load_day_config(day_dir: &Path, conf: Option<&Path>) -> Result<SpotConfig, UploadError> {
    let folder = absolute_folder(day_dir)
        .map_err(|e| UploadError::Day(Error::io(day_dir, "finding the absolute path of", e)))?;
    let variables = day_variables(&folder);
    let config = match conf {
        Some(path) => SpotConfig::load(path, &variables),
        None => SpotConfig::load_default(&variables),
    };
    Ok(config?)
}

/// `dir` as an absolute path that names the same folder, keeping the names it was reached by.
fn absolute_folder(dir: &Path) -> io::Result<PathBuf> {
    let mut path = if dir.is_absolute() {
        PathBuf::from("/")
    } else {
        working_folder()?
    };
    for component in dir.components() {
        match component {
            Component::Normal(name) => path.push(name),
            Component::ParentDir => {
                path.pop();
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    if same_folder(&path, dir) {
        Ok(path)
    } else {
        std::fs::canonicalize(dir)
    }
}

/// The working folder as the shell names it (`$PWD`) when that is still it, else as the
/// system does.
fn working_folder() -> io::Result<PathBuf> {
    let physical = std::env::current_dir()?;
    let shell = std::env::var_os("PWD")
        .map(PathBuf::from)
        .filter(|pwd| pwd.is_absolute() && same_folder(pwd, &physical));
    Ok(shell.unwrap_or(physical))
}

fn same_folder(a: &Path, b: &Path) -> bool {
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_variables_come_from_the_day_folder() {
        let vars = day_variables(Path::new("/oa/data/flow/20160122"));
        assert_eq!(vars, vec![("DSOURCE", "flow"), ("FDATE", "20160122")]);
    }

    #[test]
    fn a_linked_day_folder_keeps_the_names_of_the_link() {
        let oa = tempfile::tempdir().unwrap();
        let elsewhere = oa.path().join("disk/copy-of-day");
        std::fs::create_dir_all(&elsewhere).unwrap();
        let flow = oa.path().join("data/flow");
        std::fs::create_dir_all(&flow).unwrap();
        std::os::unix::fs::symlink(&elsewhere, flow.join("20160708")).unwrap();

        let reached = flow.join("./x/../20160708");
        std::fs::create_dir_all(flow.join("x")).unwrap();
        assert_eq!(absolute_folder(&reached).unwrap(), flow.join("20160708"));
        // `..` through the link leads to the target's parent: the names are not that folder.
        let through = flow.join("20160708/../copy-of-day");
        assert_eq!(
            absolute_folder(&through).unwrap(),
            std::fs::canonicalize(&elsewhere).unwrap()
        );
    }
}
