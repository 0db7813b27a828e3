//! `flow-edge-scanners-bench`: the engine's whole-day read pass beside the same pass done with
//! the CSV crates of the field (`csv-core`, `csv`, `simd-csv`), and beside a durable copy of the
//! same file (`dd conv=fsync`), on a seeded generated day.
//!
//! The pass is the read side of scoring one source IP: open `flow_scores.csv`, read its header
//! and find the `srcIP` column; split every data record into its fields, check that it has the
//! header's number of fields and is UTF-8, and count the records, their fields and the records
//! whose `srcIP` equals a given address (compared as decoded text). Every contender reads the
//! file through a read-only mapping, as the engine does, and prints the three counts; the
//! driver runs each once first and stops unless all counts agree. The engine's contender is
//! `Day::for_each_row`, the pass every whole-day operation is built on (its block scanner,
//! with the scan of the next blocks on a second thread).
//!
//! Every figure is a child process (this binary re-run with `--child`) measured with `wait4`:
//! wall time, CPU time (user + system, all threads), peak memory; the contenders run
//! interleaved, median of `--runs`.
//!
//! ```text
//! cargo run --release -p flow-edge-bench --bin flow-edge-scanners-bench -- \
//!     [--sizes 1000000] [--runs 5] [--work bench/out] [--markdown FILE]
//! ```

#[path = "measure.rs"]
mod measure;
#[path = "sizes.rs"]
mod sizes;

use flow_edge::synthetic::{generate, DaySpec};
use flow_edge::{Column, Day};
use measure::Measurement;
use sizes::parse_sizes;
use std::fmt::Write as _;
use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Duration;

/// Who does the pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Contender {
    /// flow-edge's `Day::for_each_row`.
    Engine,
    /// `csv_core::Reader::read_record` straight over the mapping.
    CsvCore,
    /// `csv::Reader` over the mapping, into a reused `StringRecord`.
    Csv,
    /// `simd_csv::ZeroCopyReader` over the mapping.
    SimdCsv,
    /// `simd_csv::TotalReader`, simd-csv's reader for data wholly in memory or mapped.
    SimdCsvTotal,
    /// Counting line feeds with `memchr`: no CSV at all, the least a pass over the bytes costs.
    LineFeeds,
}

const CONTENDERS: [Contender; 6] = [
    Contender::Engine,
    Contender::CsvCore,
    Contender::Csv,
    Contender::SimdCsv,
    Contender::SimdCsvTotal,
    Contender::LineFeeds,
];

impl Contender {
    fn name(self) -> &'static str {
        match self {
            Contender::Engine => "engine",
            Contender::CsvCore => "csv-core",
            Contender::Csv => "csv",
            Contender::SimdCsv => "simd-csv",
            Contender::SimdCsvTotal => "simd-csv-total",
            Contender::LineFeeds => "line-feeds",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Contender::Engine => "flow-edge block scanner (`Day::for_each_row`)",
            Contender::CsvCore => "csv-core 0.1 (`Reader::read_record`)",
            Contender::Csv => "csv 1 (`Reader::read_record`, `StringRecord`)",
            Contender::SimdCsv => "simd-csv 0.14 (`ZeroCopyReader`)",
            Contender::SimdCsvTotal => "simd-csv 0.14 (`TotalReader`, for mapped data)",
            Contender::LineFeeds => "floor: count line feeds (memchr, no fields)",
        }
    }

    fn from_name(name: &str) -> Option<Contender> {
        CONTENDERS.into_iter().find(|c| c.name() == name)
    }
}

/// What a pass found.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Counts {
    rows: u64,
    fields: u64,
    matches: u64,
}

impl Counts {
    fn add(&mut self, fields: usize, matched: bool) {
        self.rows += 1;
        self.fields += fields as u64;
        self.matches += u64::from(matched);
    }
}

/// The file of a day, mapped read-only, as the engine maps it.
fn mapped(dir: &Path) -> Result<memmap2::Mmap, String> {
    let file = fs::File::open(dir.join("flow_scores.csv")).map_err(|e| e.to_string())?;
    // SAFETY: the benchmark's day is not changed by anyone while it is read.
    unsafe { memmap2::MmapOptions::new().map_copy_read_only(&file) }.map_err(|e| e.to_string())
}

/// The position of `srcIP` among the header's names.
fn src_ip_column<'h>(names: impl IntoIterator<Item = &'h [u8]>) -> Result<usize, String> {
    names
        .into_iter()
        .position(|name| name == b"srcIP")
        .ok_or_else(|| "no srcIP column".to_owned())
}

fn engine(dir: &Path, ip: &str) -> Result<Counts, String> {
    let day = Day::open(dir).map_err(|e| e.to_string())?;
    let mut counts = Counts::default();
    day.for_each_row(|row| {
        counts.add(row.len(), row.get(Column::SrcIp) == ip);
        Ok::<(), flow_edge::Error>(())
    })
    .map_err(|e| e.to_string())?;
    Ok(counts)
}

/// One record at a time out of `csv_core`, with room grown as needed.
struct CoreRecords<'b> {
    reader: csv_core::Reader,
    input: &'b [u8],
    output: Vec<u8>,
    ends: Vec<usize>,
}

impl CoreRecords<'_> {
    /// The next record's decoded bytes and field ends, `None` at the end.
    fn next(&mut self) -> Option<(&[u8], &[usize])> {
        use csv_core::ReadRecordResult;
        let (mut written, mut ended) = (0, 0);
        loop {
            let (result, read, out, end) = self.reader.read_record(
                self.input,
                &mut self.output[written..],
                &mut self.ends[ended..],
            );
            self.input = &self.input[read..];
            written += out;
            ended += end;
            match result {
                ReadRecordResult::InputEmpty => {}
                ReadRecordResult::OutputFull => self.output.resize(self.output.len() * 2, 0),
                ReadRecordResult::OutputEndsFull => self.ends.resize(self.ends.len() * 2, 0),
                ReadRecordResult::Record => {
                    return Some((&self.output[..written], &self.ends[..ended]))
                }
                ReadRecordResult::End => return None,
            }
        }
    }
}

fn csv_core(dir: &Path, ip: &str) -> Result<Counts, String> {
    let bytes = mapped(dir)?;
    let mut records = CoreRecords {
        reader: csv_core::Reader::new(),
        input: &bytes,
        output: vec![0; 4096],
        ends: vec![0; 64],
    };
    let (header, ends) = records.next().ok_or("empty file")?;
    let width = ends.len();
    let names = ends.iter().scan(0, |from, &end| {
        Some(&header[std::mem::replace(from, end)..end])
    });
    let column = src_ip_column(names)?;
    let mut counts = Counts::default();
    let mut line = 1;
    while let Some((record, ends)) = records.next() {
        line += 1;
        if ends.len() != width || std::str::from_utf8(record).is_err() {
            return Err(format!("line {line}: not {width} UTF-8 fields"));
        }
        let from = if column == 0 { 0 } else { ends[column - 1] };
        counts.add(ends.len(), &record[from..ends[column]] == ip.as_bytes());
    }
    Ok(counts)
}

fn csv(dir: &Path, ip: &str) -> Result<Counts, String> {
    let bytes = mapped(dir)?;
    let mut reader = csv::Reader::from_reader(&bytes[..]);
    let headers = reader.byte_headers().map_err(|e| e.to_string())?;
    let column = src_ip_column(headers.iter())?;
    let mut record = csv::StringRecord::new();
    let mut counts = Counts::default();
    // Unequal field counts and invalid UTF-8 are errors of `read_record`, with their position.
    while reader.read_record(&mut record).map_err(|e| e.to_string())? {
        counts.add(record.len(), &record[column] == ip);
    }
    Ok(counts)
}

fn simd_csv(dir: &Path, ip: &str) -> Result<Counts, String> {
    let bytes = mapped(dir)?;
    let mut reader = simd_csv::ZeroCopyReader::from_reader(&bytes[..]);
    let headers = reader.byte_headers().map_err(|e| e.to_string())?;
    let column = src_ip_column(headers.iter())?;
    let mut counts = Counts::default();
    // Unequal field counts are an error of `read_byte_record`; UTF-8 is checked here.
    while let Some(record) = reader.read_byte_record().map_err(|e| e.to_string())? {
        if std::str::from_utf8(record.as_slice()).is_err() {
            return Err(format!("record {}: not UTF-8", counts.rows + 1));
        }
        let src_ip = record.unescape(column).ok_or("a short record")?;
        counts.add(record.len(), &*src_ip == ip.as_bytes());
    }
    Ok(counts)
}

fn simd_csv_total(dir: &Path, ip: &str) -> Result<Counts, String> {
    let bytes = mapped(dir)?;
    let mut reader = simd_csv::TotalReader::from_bytes(&bytes);
    let headers = reader.byte_headers();
    let width = headers.len();
    let column = src_ip_column(headers.iter())?;
    let mut record = simd_csv::ByteRecord::new();
    let mut counts = Counts::default();
    // This reader checks neither field counts nor UTF-8: both are checked here.
    while reader.read_byte_record(&mut record) {
        if record.len() != width || std::str::from_utf8(record.as_slice()).is_err() {
            return Err(format!(
                "record {}: not {width} UTF-8 fields",
                counts.rows + 1
            ));
        }
        counts.add(record.len(), &record[column] == ip.as_bytes());
    }
    Ok(counts)
}

/// Rows are line feeds less the header's; fields and matches are not looked for.
fn line_feeds(dir: &Path) -> Result<Counts, String> {
    let bytes = mapped(dir)?;
    let lines = memchr::memchr_iter(b'\n', &bytes).count() as u64;
    Ok(Counts {
        rows: lines.saturating_sub(1),
        ..Counts::default()
    })
}

/// The child side: one pass, its counts on stdout.
fn child(arguments: &[String]) -> Result<(), String> {
    let [name, dir, ip] = arguments else {
        return Err("--child needs a contender, a day folder and an address".to_owned());
    };
    let dir = Path::new(dir);
    let counts = match Contender::from_name(name) {
        Some(Contender::Engine) => engine(dir, ip),
        Some(Contender::CsvCore) => csv_core(dir, ip),
        Some(Contender::Csv) => csv(dir, ip),
        Some(Contender::SimdCsv) => simd_csv(dir, ip),
        Some(Contender::SimdCsvTotal) => simd_csv_total(dir, ip),
        Some(Contender::LineFeeds) => line_feeds(dir),
        None => Err(format!("unknown contender {name:?}")),
    }?;
    println!("{} {} {}", counts.rows, counts.fields, counts.matches);
    Ok(())
}

/// Command-line options.
struct Options {
    sizes: Vec<usize>,
    runs: usize,
    work: PathBuf,
    markdown: Option<PathBuf>,
}

fn parse_options(arguments: &[String]) -> Result<Options, String> {
    let repository = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut options = Options {
        sizes: vec![1_000_000],
        runs: 5,
        work: repository.join("bench/out"),
        markdown: None,
    };
    let mut rest = arguments.iter();
    while let Some(flag) = rest.next() {
        let value = rest.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--sizes" => options.sizes = parse_sizes(value)?,
            "--runs" => options.runs = value.parse().map_err(|_| "bad --runs".to_owned())?,
            "--work" => options.work = PathBuf::from(value),
            "--markdown" => options.markdown = Some(PathBuf::from(value)),
            other => return Err(format!("unknown option {other:?}")),
        }
    }
    Ok(options)
}

/// A day folder with a generated day of `size` rows (and its backup, so that opening it
/// copies nothing), and the first source IP of its listbox, which the pass looks for.
fn prepare(options: &Options, size: usize) -> Result<(PathBuf, String), String> {
    let dir = options.work.join(format!("scanners-{size}"));
    let flow = dir.join("flow_scores.csv");
    if !flow.exists() {
        fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let mut out = BufWriter::new(fs::File::create(&flow).map_err(|e| e.to_string())?);
        generate(&DaySpec::new(size, 42), &mut out)
            .and_then(|()| out.flush())
            .map_err(|e| e.to_string())?;
        drop(out);
        fs::copy(&flow, dir.join("flow_scores_bu.csv")).map_err(|e| e.to_string())?;
    }
    let day = Day::open(&dir).map_err(|e| e.to_string())?;
    let lists = day.listbox_values().map_err(|e| e.to_string())?;
    let ip = lists.src_ips.first().cloned().ok_or("no source IP")?;
    Ok((dir, ip))
}

fn child_command(contender: Contender, dir: &Path, ip: &str) -> Result<Command, String> {
    let mut command = Command::new(std::env::current_exe().map_err(|e| e.to_string())?);
    command
        .arg("--child")
        .arg(contender.name())
        .arg(dir)
        .arg(ip);
    Ok(command)
}

/// Runs every contender once, untimed, and checks the counts agree (the line count only
/// counts rows).
fn check_counts(dir: &Path, ip: &str) -> Result<Counts, String> {
    let mut expected = None;
    for contender in CONTENDERS {
        let output = child_command(contender, dir, ip)?
            .output()
            .map_err(|e| e.to_string())?;
        if !output.status.success() {
            return Err(format!(
                "{}: {}",
                contender.name(),
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        let text = String::from_utf8_lossy(&output.stdout);
        let numbers: Vec<u64> = text
            .split_whitespace()
            .filter_map(|n| n.parse().ok())
            .collect();
        let [rows, fields, matches] = numbers[..] else {
            return Err(format!("{}: printed {text:?}", contender.name()));
        };
        let counts = Counts {
            rows,
            fields,
            matches,
        };
        let expected = *expected.get_or_insert(counts);
        let agrees = if contender == Contender::LineFeeds {
            counts.rows == expected.rows
        } else {
            counts == expected
        };
        if !agrees {
            return Err(format!(
                "{} found {counts:?}, the engine {expected:?}",
                contender.name()
            ));
        }
    }
    expected.ok_or_else(|| "no contender".to_owned())
}

/// The results for one size.
struct SizeResult {
    size: usize,
    file_bytes: u64,
    counts: Counts,
    passes: Vec<(Contender, Measurement)>,
    dd: Measurement,
    load: (f64, f64),
}

fn load_average() -> f64 {
    fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse().ok())
        .unwrap_or(f64::NAN)
}

fn run_size(options: &Options, size: usize) -> Result<SizeResult, String> {
    let (dir, ip) = prepare(options, size)?;
    let counts = check_counts(&dir, &ip)?;
    let flow = dir.join("flow_scores.csv");
    let copy = dir.join("copy.csv");
    let mut runs: Vec<Vec<Measurement>> = vec![Vec::new(); CONTENDERS.len()];
    let mut dd_runs = Vec::new();
    let mut load = (f64::INFINITY, f64::NEG_INFINITY);
    for _ in 0..options.runs.max(1) {
        for (contender, measured) in CONTENDERS.iter().zip(&mut runs) {
            measured.push(measure::run(&mut child_command(*contender, &dir, &ip)?)?);
        }
        dd_runs.push(measure::run(
            Command::new("dd")
                .arg(format!("if={}", flow.display()))
                .arg(format!("of={}", copy.display()))
                .args(["bs=1M", "conv=fsync", "status=none"]),
        )?);
        let _ = fs::remove_file(&copy);
        let now = load_average();
        load = (load.0.min(now), load.1.max(now));
    }
    let median = |all: Vec<Measurement>| measure::median(all).ok_or_else(|| "no runs".to_owned());
    let mut passes = Vec::new();
    for (contender, measured) in CONTENDERS.into_iter().zip(runs) {
        passes.push((contender, median(measured)?));
    }
    Ok(SizeResult {
        size,
        file_bytes: fs::metadata(&flow).map_err(|e| e.to_string())?.len(),
        counts,
        passes,
        dd: median(dd_runs)?,
        load,
    })
}

fn seconds(duration: Duration) -> String {
    format!("{:.3}", duration.as_secs_f64())
}

fn ratio(a: Duration, b: Duration) -> String {
    format!("{:.2}x", a.as_secs_f64() / b.as_secs_f64().max(1e-9))
}

fn table(results: &[SizeResult], runs: usize) -> String {
    let mut out = String::new();
    for result in results {
        let _ = writeln!(
            out,
            "{} rows, {:.1} MiB: {} records, {} fields, {} of the source IP; median of {runs} \
             interleaved runs, load average {:.1} to {:.1}.\n",
            result.size,
            result.file_bytes as f64 / f64::from(1 << 20),
            result.counts.rows,
            result.counts.fields,
            result.counts.matches,
            result.load.0,
            result.load.1,
        );
        let _ = writeln!(
            out,
            "| pass | wall s | CPU s | peak MiB | wall / engine | CPU / engine | wall / dd |"
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|");
        let engine = result.passes[0].1;
        for (contender, measured) in &result.passes {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {:.1} | {} | {} | {} |",
                contender.describe(),
                seconds(measured.wall),
                seconds(measured.cpu),
                measured.peak_rss as f64 / f64::from(1 << 20),
                ratio(measured.wall, engine.wall),
                ratio(measured.cpu, engine.cpu),
                ratio(measured.wall, result.dd.wall),
            );
        }
        let _ = writeln!(
            out,
            "| durable copy (dd bs=1M conv=fsync) | {} | {} | {:.1} | | | 1.00x |\n",
            seconds(result.dd.wall),
            seconds(result.dd.cpu),
            result.dd.peak_rss as f64 / f64::from(1 << 20),
        );
    }
    out
}

fn main() -> ExitCode {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let result = if arguments.first().map(String::as_str) == Some("--child") {
        child(&arguments[1..])
    } else {
        parse_options(&arguments).and_then(|options| {
            let mut results = Vec::new();
            for &size in &options.sizes {
                eprintln!("== {size} rows");
                results.push(run_size(&options, size)?);
            }
            let table = table(&results, options.runs);
            print!("{table}");
            if let Some(path) = &options.markdown {
                fs::write(path, &table).map_err(|e| format!("{}: {e}", path.display()))?;
            }
            Ok(())
        })
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("flow-edge-scanners-bench: {error}");
            ExitCode::from(1)
        }
    }
}
