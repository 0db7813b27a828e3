"""Two or more builds of flow-edge side by side on the whole-day passes, interleaved.

    bench/compare_builds.py --builds before=DIR,after=DIR [--rounds 9] [--scenarios score-src,save]

Each DIR holds a release build's `flow-edge` and `flow-edge-bench` binaries (copy them out of
the target folder after building each commit). On a shared machine, figures of two builds are
only comparable when measured in the same minutes, so every round runs each scenario once per
build and once as a durable copy (`dd conv=fsync`), each on a fresh copy of the day flushed to
disk first, as bench/run.sh does. Prints the median wall time, CPU time (user + system of all
threads) and peak memory per build and scenario, and the load average seen during the run (peak
memory, from wait4, cannot be below what this script held when it started the child, about
15 MiB, as in bench/rules_bench.py).

The days are made once in --work with the first build's `flow-edge generate` (1M rows, seed 42):
the day as generated, the same day after a session (one row in twenty scored) and the rules
benchmark's day (rows planted so that the original rules match, as bench/rules_bench.py does).
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

from rules_bench import plant_rule_rows

HERE = os.path.dirname(os.path.abspath(__file__))


def run(argv):
    """Runs a child; returns (wall s, CPU s, peak RSS MiB)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{argv} failed: {proc.stderr.read().decode(errors='replace')}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def make_days(flow_edge, work, rows):
    """The three days, each a folder with flow_scores.csv; made once."""
    generated = os.path.join(work, "generated")
    if not os.path.exists(os.path.join(generated, "flow_scores.csv")):
        run([flow_edge, "generate", generated, "--rows", str(rows), "--seed", "42"])
    source = os.path.join(generated, "flow_scores.csv")
    session = os.path.join(work, "session")
    if not os.path.exists(os.path.join(session, "flow_scores.csv")):
        os.makedirs(session, exist_ok=True)
        with open(source, "rb") as f, open(os.path.join(session, "flow_scores.csv"), "wb") as g:
            for number, line in enumerate(f):
                spread = ((number * 2654435761) % (1 << 64)) >> 7
                if number > 0 and spread % 20 == 0 and line[:1] == b"0":
                    line = bytes([ord("1") + number % 3]) + line[1:]
                g.write(line)
    planted = os.path.join(work, "rules")
    if not os.path.exists(os.path.join(planted, "flow_scores.csv")):
        os.makedirs(planted, exist_ok=True)
        plant_rule_rows(source, os.path.join(planted, "flow_scores.csv"))
    return {"generated": generated, "session": session, "rules": planted}


def fresh(day, run_dir):
    """A fresh copy of `day` and its backup in `run_dir`, flushed to disk."""
    shutil.rmtree(run_dir, ignore_errors=True)
    os.makedirs(run_dir)
    for name in ["flow_scores.csv", "flow_scores_bu.csv"]:
        target = os.path.join(run_dir, name)
        shutil.copyfile(os.path.join(day, "flow_scores.csv"), target)
        fd = os.open(target, os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
    fd = os.open(run_dir, os.O_RDONLY)
    os.fsync(fd)
    os.close(fd)


def scenarios(lists, run_dir):
    """Scenario name -> (day, argv for a build folder)."""
    bench = lambda build, *args: [os.path.join(build, "flow-edge-bench"), "--engine-child", *args]
    cli = lambda build, *args: [os.path.join(build, "flow-edge"), *args]
    return {
        "score-src": ("generated", lambda b: bench(b, "score-src", run_dir, lists["src_ips"][0])),
        "score-ip": ("generated", lambda b: bench(b, "score-ip", run_dir, lists["dst_ips"][0])),
        "save": ("generated", lambda b: bench(b, "save", run_dir)),
        "save-session": ("session", lambda b: bench(b, "save", run_dir)),
        "rules": ("rules", lambda b: cli(b, "rules", run_dir)),
        "heuristics": ("rules", lambda b: cli(b, "heuristics", run_dir)),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--builds", required=True, help="name=DIR,name=DIR,...")
    parser.add_argument("--scenarios", default="score-src,score-ip,save,save-session,rules,heuristics")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--work", default=os.path.join(HERE, "out", "compare"))
    args = parser.parse_args()
    builds = [item.split("=", 1) for item in args.builds.split(",")]
    os.makedirs(args.work, exist_ok=True)
    days = make_days(os.path.join(builds[0][1], "flow-edge"), args.work, args.rows)
    listed = subprocess.run([os.path.join(builds[0][1], "flow-edge"), "lists", days["generated"],
                             "--json"], check=True, capture_output=True).stdout
    run_dir = os.path.join(args.work, "run")
    table = scenarios(json.loads(listed), run_dir)
    chosen = args.scenarios.split(",")
    results, loads = {}, []
    for round_number in range(args.rounds):
        for scenario in chosen:
            day, argv = table[scenario]
            for name, folder in builds:
                fresh(days[day], run_dir)
                results.setdefault((scenario, name), []).append(run(argv(folder)))
            fresh(days[day], run_dir)
            copy = ["dd", f"if={run_dir}/flow_scores.csv", f"of={run_dir}/copy.csv", "bs=1M",
                    "conv=fsync", "status=none"]
            results.setdefault((scenario, "dd"), []).append(run(copy))
        loads.append(os.getloadavg()[0])
        print(f"round {round_number + 1} of {args.rounds}, load {loads[-1]:.1f}", file=sys.stderr)
    median = lambda scenario, name, at: statistics.median(r[at] for r in results[(scenario, name)])
    print(f"Median of {args.rounds} interleaved rounds; load average {min(loads):.1f} to "
          f"{max(loads):.1f}.\n")
    print("| scenario | " + " | ".join(f"{n} s | {n} CPU s | {n} MiB" for n, _ in builds)
          + " | dd s |")
    print("|---|" + "---:|" * (3 * len(builds) + 1))
    for scenario in chosen:
        cells = []
        for name, _ in builds:
            peak = max(r[2] for r in results[(scenario, name)])
            cells += [f"{median(scenario, name, 0):.3f}", f"{median(scenario, name, 1):.3f}",
                      f"{peak:.1f}"]
        print(f"| {scenario} | " + " | ".join(cells) + f" | {median(scenario, 'dd', 0):.3f} |")


if __name__ == "__main__":
    main()
