"""Benchmark: rules and attack heuristics on a generated day, side by side with the Python
reference port of the original notebook and with a durable copy of the same file.

    cargo build --release -p flow-edge-cli
    python3 -m venv bench/.venv && bench/.venv/bin/pip install pandas
    bench/.venv/bin/python bench/rules_bench.py [--rows 1000000] [--bin target/release/flow-edge]

Each scenario runs on a fresh copy of the same day (copied before the clock starts), as a child
process whose wall time and peak resident memory (getrusage of that child) are measured. Rust
scenarios and the copy run three times (median shown); the Python ones once (they take tens of
seconds). The outputs are checked against each other: the rows the Rust rules score are exactly
the rows the Python set_rules scores, and the Rust heuristics list equals the pandas one.

The generated day rarely meets the original rules (they look for tiny requests and source port
0), so before the runs one row in 20 is made a 54-byte single-packet request, one in 50 a
3-packet 152-byte exchange and one in 40 gets source port 0: the rules then rewrite about 8%
of the rows, and the Rust side cannot skip the rewrite.
"""

import argparse
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE = os.path.join(HERE, "reference", "rules_heuristics.py")


def run(argv, stdout=subprocess.DEVNULL):
    """Runs a child; returns (seconds, peak RSS in MiB, stdout bytes or None)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=stdout, stderr=subprocess.PIPE)
    out = proc.stdout.read() if stdout == subprocess.PIPE else None
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace")
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.exit(f"{argv} failed ({code}): {err}")
    return seconds, usage.ru_maxrss / 1024, out


def prepare_pristine(bin_path, folder, rows):
    """Generates the day and plants rows the original rules match."""
    generated = os.path.join(folder, "generated")
    run([bin_path, "generate", generated, "--rows", str(rows), "--seed", "42"])
    target = os.path.join(folder, "flow_scores.csv")
    plant_rule_rows(os.path.join(generated, "flow_scores.csv"), target)
    shutil.rmtree(generated)
    return target


def plant_rule_rows(source, target):
    """Copies the generated day `source` to `target`, some rows changed so that each of the
    original's three rules matches (also used by compare_builds.py)."""
    with open(source, "r", newline="") as f, open(target, "w", newline="") as g:
        g.write(f.readline())
        for index, line in enumerate(f):
            # The first ten fields of the canonical order hold no commas or quotes.
            fields = line.split(",", 10)
            if index % 20 == 0:
                fields[8], fields[9] = "1", "54"
            elif index % 50 == 1:
                fields[8], fields[9] = "3", "152"
            elif index % 40 == 2:
                fields[4] = "0"
            g.write(",".join(fields))


def fresh_day(pristine, folder):
    """A day folder holding a copy of the pristine day and its backup (so opening it does not
    copy the backup inside a timed run)."""
    if os.path.exists(folder):
        shutil.rmtree(folder)
    os.makedirs(folder)
    shutil.copyfile(pristine, os.path.join(folder, "flow_scores.csv"))
    shutil.copyfile(pristine, os.path.join(folder, "flow_scores_bu.csv"))
    return folder


def severities(path):
    with open(path, "r", newline="") as f:
        reader = csv.reader(f)
        column = next(reader).index("sev")
        return [row[column] for row in reader]


def median_of(trials, make_argv, pristine, work):
    results = []
    out = None
    for _ in range(trials):
        day = fresh_day(pristine, work)
        seconds, rss, out = run(make_argv(day), stdout=subprocess.PIPE)
        results.append((seconds, rss))
    return statistics.median(s for s, _ in results), max(r for _, r in results), out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--bin", default=os.path.join(HERE, "..", "target", "release", "flow-edge"))
    parser.add_argument("--out", default=os.path.join(HERE, "out", "rules"))
    parser.add_argument("--trials", type=int, default=3)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    python = sys.executable

    pristine = prepare_pristine(args.bin, args.out, args.rows)
    size_mb = os.path.getsize(pristine) / 1e6
    work = os.path.join(args.out, "day")
    rows = []

    copy_s, copy_rss, _ = median_of(
        args.trials,
        lambda d: ["dd", f"if={d}/flow_scores.csv", f"of={d}/copy.csv", "bs=1M", "conv=fsync"],
        pristine, work)
    rows.append(("durable copy (dd conv=fsync)", copy_s, copy_rss))

    rules_s, rules_rss, _ = median_of(args.trials, lambda d: [args.bin, "rules", d], pristine, work)
    rust_sev = severities(os.path.join(work, "flow_scores.csv"))
    rows.append(("flow-edge rules (3 original rules, 1 pass)", rules_s, rules_rss))

    day = fresh_day(pristine, work)
    ref_rules_s, ref_rules_rss, _ = run([python, REFERENCE, "set_rules", day])
    python_sev = severities(os.path.join(work, "flow_scores.csv"))
    rows.append(("Python set_rules (3 passes, csv module)", ref_rules_s, ref_rules_rss))
    scored = sum(1 for s in rust_sev if s != "0")
    if rust_sev != python_sev:
        sys.exit("the Rust rules and the Python set_rules scored different rows")

    heur_s, heur_rss, heur_out = median_of(
        args.trials, lambda d: [args.bin, "heuristics", d, "--json"], pristine, work)
    rows.append(("flow-edge heuristics (distinct destinations)", heur_s, heur_rss))

    day = fresh_day(pristine, work)
    pandas_s, pandas_rss, pandas_out = run([python, REFERENCE, "pandas_fan_out", day],
                                           stdout=subprocess.PIPE)
    rows.append(("pandas group-by, same result (nunique + size)", pandas_s, pandas_rss))
    orig_s, orig_rss, _ = run([python, REFERENCE, "attack_heuristics", day])
    rows.append(("Python attack_heuristics (original: csv + pandas get_group)", orig_s, orig_rss))

    rust_list = [(s["ip"], s["destinations"], s["rows"]) for s in json.loads(heur_out)["sources"]]
    pandas_list = []
    for line in pandas_out.decode().splitlines():
        ip, destinations, count = line.split()
        pandas_list.append((ip, int(destinations), int(count)))
    if rust_list != pandas_list:
        sys.exit("the Rust heuristics and the pandas group-by differ")

    lines = [
        f"{args.rows} rows, {size_mb:.0f} MB; rules scored {scored} rows (same rows as the "
        f"Python port); heuristics listed {len(rust_list)} sources (same list as pandas).",
        "",
        "| scenario | time (s) | peak RSS (MiB) | vs durable copy | Python / Rust |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    ratios = {
        "flow-edge rules (3 original rules, 1 pass)": ref_rules_s / rules_s,
        "flow-edge heuristics (distinct destinations)": pandas_s / heur_s,
    }
    for name, seconds, rss in rows:
        ratio = f"{ratios[name]:.1f}x" if name in ratios else ""
        lines.append(f"| {name} | {seconds:.2f} | {rss:.0f} | {seconds / copy_s:.2f}x | {ratio} |")
    lines.append("")
    lines.append(f"Heuristics vs the original attack_heuristics: {orig_s / heur_s:.0f}x faster.")
    report = "\n".join(lines)
    print(report)
    with open(os.path.join(args.out, "report.md"), "w") as f:
        f.write(report + "\n")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
