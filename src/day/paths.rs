//! Where the files of one day live, and the settings the notebook exposes.

use crate::error::Error;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

/// File names inside a day folder (`<oa>/data/flow/<date>/`).
pub(crate) const FLOW: &str = "flow_scores.csv";
const BACKUP: &str = "flow_scores_bu.csv";
const FEEDBACK: &str = "flow_scores_fb.csv";

/// Default number of rows used to fill the listboxes (the original's `coff`).
pub const DEFAULT_COFF: usize = 250;

/// How long an operation waits for the day's lock by default (see [`DayPaths::lock_wait`]).
pub const DEFAULT_LOCK_WAIT: Duration = Duration::from_secs(30);

/// Every file the engine reads or writes for one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayPaths {
    /// The day folder.
    pub dir: PathBuf,
    /// `flow_scores.csv`: the day's flows. Scorings and undos write their `sev` bytes in place;
    /// every other change writes a new version and renames it over this one.
    pub flow: PathBuf,
    /// `flow_scores_bu.csv`: the flows as first opened; never overwritten.
    pub backup: PathBuf,
    /// `flow_scores.csv.tmp`: the next version while scoring or restoring.
    pub tmp: PathBuf,
    /// `flow_scores.csv.new`: the next version while saving and sorting.
    pub new: PathBuf,
    /// `flow_scores_fb.csv`: scored rows for the ML side, tab-separated.
    pub feedback: PathBuf,
    /// `flow_scores.csv.lock`: held (advisory lock) by the one writer at a time.
    pub lock: PathBuf,
    /// `flow_scores.csv.journal`: present only while a scoring (or an undo made in place) is
    /// under way, or after a crash interrupted one.
    pub journal: PathBuf,
    /// `flow_scores_bu.csv.tmp`: the backup while it is being made.
    pub backup_tmp: PathBuf,
    /// `flow_scores.csv.undo`: the restored flows while an undo is under way.
    pub undo_tmp: PathBuf,
    /// `flow_scores.csv.undo-journal`: present only while an undo is being finished.
    pub undo_journal: PathBuf,
    /// The context folder (`<oa>/context/`, or the day folder when the day
    /// does not sit in an OA tree).
    pub context: PathBuf,
    /// How long an operation on these files waits for the day's lock before it gives up with
    /// [`Error::Locked`] naming the holder ([`DEFAULT_LOCK_WAIT`] unless set). It travels with
    /// the paths because every operation is handed them: set it before [`crate::Day::open_paths`]
    /// to bound the open's wait too, or later with [`crate::Day::set_lock_wait`].
    pub lock_wait: Duration,
}

impl DayPaths {
    /// The paths of the day in `dir`, with `context` as context folder.
    pub fn new(dir: &Path, context: &Path) -> DayPaths {
        let file = |name: &str| dir.join(name);
        DayPaths {
            dir: dir.to_path_buf(),
            flow: file(FLOW),
            backup: file(BACKUP),
            tmp: file(&format!("{FLOW}.tmp")),
            new: file(&format!("{FLOW}.new")),
            feedback: file(FEEDBACK),
            lock: file(&format!("{FLOW}.lock")),
            journal: file(&format!("{FLOW}.journal")),
            backup_tmp: file(&format!("{BACKUP}.tmp")),
            undo_tmp: file(&format!("{FLOW}.undo")),
            undo_journal: file(&format!("{FLOW}.undo-journal")),
            context: context.to_path_buf(),
            lock_wait: DEFAULT_LOCK_WAIT,
        }
    }

    /// The paths of a day folder. When it is `<oa>/data/<source>/<date>`, the
    /// context folder is `<oa>/context`; otherwise it is the day folder itself.
    pub fn for_day_folder(dir: &Path) -> DayPaths {
        // A relative folder (`flow-edge lists .`) is looked at from the working folder, so
        // that a day inside an OA tree finds `<oa>/context` however it was named.
        let absolute = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
        let context = match oa_root(&absolute, "data") {
            Some(oa) => oa.join("context"),
            None => dir.to_path_buf(),
        };
        DayPaths::new(dir, &context)
    }

    /// The paths for a notebook working in `<oa>/ipynb/<source>/<date>/`: the
    /// data is in `<oa>/data/<source>/<date>/`, the context in `<oa>/context/`
    /// (the original notebook's rule, without its habit of renaming every
    /// folder called `ipynb` on the way).
    pub fn for_notebook_folder(cwd: &Path) -> Result<DayPaths, Error> {
        let not_notebook = || Error::NotANotebookFolder(cwd.to_path_buf());
        let oa = oa_root(cwd, "ipynb").ok_or_else(not_notebook)?;
        let mut parts = cwd.components().rev();
        let date = parts.next().ok_or_else(not_notebook)?;
        let source = parts.next().ok_or_else(not_notebook)?;
        let dir = oa.join("data").join(source).join(date);
        Ok(DayPaths::new(&dir, &oa.join("context")))
    }
}

/// `<oa>` when `dir` is `<oa>/<kind>/<source>/<date>`.
fn oa_root(dir: &Path, kind: &str) -> Option<PathBuf> {
    let parts: Vec<Component> = dir.components().collect();
    if parts.len() < 4 {
        return None;
    }
    let at = parts.len() - 3;
    let is_named = |part: &Component| matches!(part, Component::Normal(name) if *name == kind);
    let is_plain = |part: &Component| matches!(part, Component::Normal(_));
    if is_named(&parts[at]) && is_plain(&parts[at + 1]) && is_plain(&parts[at + 2]) {
        Some(parts[..at].iter().collect())
    } else {
        None
    }
}

/// The notebook's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// How many data rows (from the top) fill the listboxes.
    pub coff: usize,
    /// The network context file (read by the network context module).
    pub nwloc: PathBuf,
}

impl Settings {
    /// The defaults: `coff` 250, `nwloc` `<context>/networkcontext.csv`.
    pub fn defaults(context: &Path) -> Settings {
        Settings {
            coff: DEFAULT_COFF,
            nwloc: context.join("networkcontext.csv"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notebook_folder_maps_to_its_data_and_context_folders() {
        let paths =
            DayPaths::for_notebook_folder(Path::new("/srv/oa/ipynb/flow/20160708")).unwrap();
        assert_eq!(
            paths.flow,
            Path::new("/srv/oa/data/flow/20160708/flow_scores.csv")
        );
        assert_eq!(paths.context, Path::new("/srv/oa/context"));
    }

    #[test]
    fn a_folder_outside_an_oa_tree_is_not_a_notebook_folder() {
        let error = DayPaths::for_notebook_folder(Path::new("/home/me/20160708")).unwrap_err();
        assert!(
            error.to_string().contains("not a notebook folder"),
            "{error}"
        );
    }

    #[test]
    fn a_day_folder_in_an_oa_tree_finds_the_context_folder() {
        let paths = DayPaths::for_day_folder(Path::new("/srv/oa/data/flow/20160708"));
        assert_eq!(paths.context, Path::new("/srv/oa/context"));
        let loose = DayPaths::for_day_folder(Path::new("/tmp/day"));
        assert_eq!(loose.context, Path::new("/tmp/day"));
    }
}
