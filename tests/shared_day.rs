//! A day shared with the OA jobs through its group and mode keeps both when the panel rewrites
//! it: a scoring and its undo, as the analyst's buttons run them.

use flow_edge::panel::{PanelOptions, UploadSettings};
use flow_edge::synthetic::{generate_bytes, DaySpec};
use flow_edge::{Day, Selection};
use std::fs;
use std::os::unix::fs::{chown, MetadataExt, PermissionsExt};
use std::path::Path;

/// The gid of group `daemon`, when this process may give files to it (root may).
fn shareable_daemon_group(probe: &Path) -> Option<u32> {
    let groups = fs::read_to_string("/etc/group").ok()?;
    let gid = groups
        .lines()
        .find_map(|line| line.strip_prefix("daemon:x:"))?
        .split(':')
        .next()?
        .parse()
        .ok()?;
    chown(probe, None, Some(gid)).ok().map(|()| gid)
}

fn mode_and_group(path: &Path) -> (u32, u32) {
    let meta = fs::metadata(path).unwrap();
    (meta.mode() & 0o777, meta.gid())
}

#[test]
fn scoring_and_undo_in_the_panel_keep_the_days_mode_and_group() {
    let dir = tempfile::tempdir().unwrap();
    let flow = dir.path().join("flow_scores.csv");
    fs::write(&flow, generate_bytes(&DaySpec::new(300, 3))).unwrap();
    // A mode no umask gives a new file by itself (umask 022 gives 644, 077 gives 600).
    fs::set_permissions(&flow, fs::Permissions::from_mode(0o640)).unwrap();
    let group = shareable_daemon_group(&flow).unwrap_or_else(|| mode_and_group(&flow).1);
    let shared = (0o640, group);

    let day = Day::open(dir.path()).unwrap();
    let panel = day
        .panel_with(PanelOptions {
            upload: UploadSettings {
                spot_conf: Some(dir.path().join("no-such-spot.conf")),
                ..UploadSettings::default()
            },
            interactive: false,
            ..PanelOptions::default()
        })
        .unwrap();
    let ip = panel.lists().src_ips[0].clone();
    panel.score(&Selection::new().quick_ip(ip), 2).unwrap();
    assert_eq!(mode_and_group(&flow), shared, "after scoring");
    assert_eq!(mode_and_group(&day.paths().feedback), shared, "feedback");
    panel.undo().unwrap();
    assert_eq!(mode_and_group(&flow), shared, "after undo");
}
