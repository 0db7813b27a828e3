//! Readers never see a scoring half written: while a child process scores a port from its
//! panel and undoes it, over and over (in place: a few thousand `sev` bytes each time, all
//! over the day), this process reads the day with every reading API, as fast as it can, and
//! checks that each read saw every row of that port rated, or none.
//!
//! Runs without the test harness (`harness = false`): the binary is also the child.

use flow_edge::panel::{PanelOptions, UploadSettings};
use flow_edge::synthetic::{generate_bytes, DaySpec};
use flow_edge::{Column, Day, Error, Selection};
use std::fs;
use std::process::Command;
use std::time::{Duration, Instant};

const CHILD_DAY: &str = "FLOW_EDGE_READERS_DAY";
const CHILD_PORT: &str = "FLOW_EDGE_READERS_PORT";

/// Scorings (each undone) the child makes.
const CYCLES: usize = 40;
/// The rating the child gives.
const RATING: u8 = 2;

fn panel_options() -> PanelOptions {
    PanelOptions {
        upload: UploadSettings::default(),
        interactive: false,
        ..PanelOptions::default()
    }
}

/// The child: scores the port from a panel and undoes it, `CYCLES` times, pausing after each
/// (as an analyst would) so that readers also land between the two.
fn child(dir: &str, port: &str) -> Result<(), String> {
    let day = Day::open(dir).map_err(|e| e.to_string())?;
    let panel = day.panel_with(panel_options()).map_err(|e| e.to_string())?;
    let selection = Selection::new().dport(port);
    let pause = || std::thread::sleep(Duration::from_millis(10));
    for cycle in 0..CYCLES {
        panel.score(&selection, RATING).map_err(|e| e.to_string())?;
        pause();
        if cycle == 0 {
            wait_until_seen(dir);
        }
        panel.undo().map_err(|e| e.to_string())?;
        pause();
    }
    Ok(())
}

/// The file the parent creates once a read of its saw the rows rated.
const SEEN: &str = "seen-rated";

/// Holds the first scoring until the parent has read it (at most 10 s), so that a loaded
/// machine cannot run every score-and-undo between two of the parent's reads.
fn wait_until_seen(dir: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !std::path::Path::new(dir).join(SEEN).exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Rows of `port`, and how many of them have the rating, as `day` reads them.
fn rated(day: &Day, port: &str) -> (u64, u64) {
    let (mut rows, mut rated) = (0, 0);
    day.for_each_row(|row| -> Result<(), Error> {
        if row.get(Column::Dport) == port {
            rows += 1;
            rated += u64::from(row.severity()? == RATING);
        }
        Ok(())
    })
    .expect("reading the day");
    (rows, rated)
}

fn main() {
    if let (Ok(dir), Ok(port)) = (std::env::var(CHILD_DAY), std::env::var(CHILD_PORT)) {
        match child(&dir, &port) {
            Ok(()) => std::process::exit(0),
            Err(error) => {
                eprintln!("child: {error}");
                std::process::exit(1)
            }
        }
    }
    let started = Instant::now();
    let dir = tempfile::tempdir().expect("temp dir");
    fs::write(
        dir.path().join("flow_scores.csv"),
        generate_bytes(&DaySpec::new(20_000, 23)),
    )
    .expect("writing the day");
    let writer_day = Day::open(dir.path()).expect("opening the day");
    let port = writer_day.listbox_values().expect("lists").dports[0].clone();
    let (rows, none) = rated(&writer_day, &port);
    assert!(rows > 1000 && none == 0, "{rows} rows of port {port}");
    let selection = Selection::new().dport(port.clone());
    let reader_panel = writer_day.panel_with(panel_options()).expect("panel");

    let mut writer = Command::new(std::env::current_exe().expect("test binary"))
        .env(CHILD_DAY, dir.path())
        .env(CHILD_PORT, &port)
        .spawn()
        .expect("starting the writer");
    let mut reads = [0u64; 3];
    let mut saw_rated = 0u64;
    loop {
        let done = writer.try_wait().expect("the writer").is_some();
        let read_only = Day::open_read_only(dir.path()).expect("opening to read");
        let views = [rated(&read_only, &port), rated(&writer_day, &port), {
            let preview = reader_panel.preview(&selection).expect("preview");
            (preview.matched, preview.already_scored)
        }];
        for (at, (seen_rows, seen_rated)) in views.into_iter().enumerate() {
            assert_eq!(seen_rows, rows, "reader {at}");
            assert!(
                seen_rated == 0 || seen_rated == rows,
                "reader {at} saw {seen_rated} of the {rows} rows rated: a scoring half written"
            );
            reads[at] += 1;
            saw_rated += u64::from(seen_rated == rows);
            if seen_rated == rows && saw_rated == 1 {
                fs::write(dir.path().join(SEEN), b"").expect("telling the writer");
            }
        }
        if done {
            break;
        }
    }
    assert!(
        writer.wait().expect("the writer").success(),
        "the writer failed"
    );
    assert!(
        saw_rated > 0,
        "no read landed between a scoring and its undo"
    );
    println!(
        "in-place readers: {CYCLES} scorings of {rows} rows and their undos; reads by day opened \
         to read {}, by day opened to write {}, by panel preview {}; {saw_rated} saw the rows \
         rated, the others none; {:?}",
        reads[0],
        reads[1],
        reads[2],
        started.elapsed()
    );
}
