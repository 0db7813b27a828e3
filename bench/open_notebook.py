"""Opening the Edge Investigation notebook: kernel start to a usable panel, cold and warm.

Each *open* starts the installed `flow-edge` kernel in the notebook's folder (as JupyterLab
does), sends every code cell at once (Run All queues them the same way) and timestamps, from
the moment the kernel is started:

  * ready:   the kernel answers kernel_info;
  * cell N:  the execute_reply of each code cell;
  * usable:  the panel is shown (its display_data arrived), its four listboxes hold values
             beyond "- Select -" and its Score button exists and is enabled (widget states
             from comm_open and comm_msg updates, as the browser would render them);
  * idle:    the last cell finished (a click sent before that waits behind the cells).

The build cache (`flow-edge-kernel cache`) lives under XDG_CACHE_HOME; the benchmark gives the
kernel a folder of its own. `--cache empty` empties it before every open (cold: `:dep
flow_edge` compiles the library and its dependencies); `--cache warm` (the default) keeps it,
so the first open of a fresh folder is cold and the next ones are warm, unless `--warm-first`
runs `flow-edge-kernel install` into it first (as installing does; the kernelspec it writes goes
to a throwaway prefix). `--trivial N` then runs `1+1` N times in the open kernel (its
execute_reply, from the request). The last lines are the medians over the opens.

    scripts/make-demo-tree /var/tmp/day-1m 1000000
    .venv/bin/python bench/open_notebook.py /var/tmp/day-1m/ipynb/flow/20160708/Edge_Investigation.ipynb \
        --opens 4 [--cache empty|warm] [--cache-home DIR] [--warm-first] [--trivial 20] [--json FILE]
        [--run-all-after S]   (Run All S seconds after the kernel's start, not at once)
        [--standby]           (each open's kernel warms one ahead for the next open, which waits
                               until it is ready; without it, no kernel is warmed ahead)

The day's files are put back before each open (with the backup `flow_scores_bu.csv` made, as
a first open makes it), so every open does the same work: the panel's rules score the day's
unscored matches and rewrite it, as on the first open of a day.
"""

import argparse
import json
import os
import re
import signal
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
NOTHING = "- Select -"


class WidgetStates:
    """The widget models the kernel opened, with every update applied."""

    def __init__(self):
        self.models = {}

    def observe(self, msg):
        kind, content = msg["msg_type"], msg["content"]
        if kind == "comm_open":
            self.models[content["comm_id"]] = dict(content["data"].get("state", {}))
        elif kind == "comm_msg" and content["comm_id"] in self.models:
            data = content["data"]
            if data.get("method") == "update":
                self.models[content["comm_id"]].update(data.get("state", {}))

    def panel_usable(self):
        selects = [m for m in self.models.values() if m.get("_model_name") == "SelectModel"]
        filled = [m for m in selects if [o for o in m.get("_options_labels", []) if o != NOTHING]]
        scores = [
            m
            for m in self.models.values()
            if m.get("_model_name") == "ButtonModel" and m.get("description") == "Score"
        ]
        return len(filled) >= 4 and any(not m.get("disabled", False) for m in scores)


def load_average():
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def trivial_cells(kc, runs: int) -> list:
    """Seconds from sending `1+1` to its execute_reply, `runs` times, on a kernel at rest."""
    times = []
    for _ in range(runs):
        sent = time.monotonic()
        msg_id = kc.execute("1+1")
        while True:
            reply = kc.get_shell_msg(timeout=60)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        times.append(time.monotonic() - sent)
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"1+1 failed: {reply['content']}")
    return times


# `--split`: cells sent before the notebook's, to split its first cells' time: a cell that
# loads the library (cargo's check of the cached build, the cell's compile, the dylib load),
# a trivial cell (the compile and load floor of any cell), then a cell that only reads the day.
# Each cell's `Took ... ms (phase ... ms, ...)` line (from `:timing`) goes into the timeline.
SPLIT_CELLS = [
    ("split :timing", ":timing"),
    ("split :dep flow_edge", ":dep flow_edge\nlet _ = ();"),
    ("split 1+1", "1+1"),
    ("split Day::from_notebook_dir", "let _probe_day = flow_edge::Day::from_notebook_dir(std::env::current_dir()?)?;"),
]


def phases(cell_name: str, took: str) -> dict:
    """`Took 834 ms (Final compile 800 ms, Execution 30 ms)` -> seconds per phase of the cell."""
    found = {}
    total, _, rest = took.removeprefix("Took ").partition(" (")
    found[f"took {cell_name}"] = float(total.removesuffix(" ms")) / 1000
    for part in rest.removesuffix(")").split(", ") if rest else []:
        name, _, ms = part.rpartition(" ")[0].rpartition(" ")
        found[f"phase {cell_name}: {name}"] = float(ms) / 1000
    return found


def open_once(notebook: Path, kernel_name: str, env: dict, timeout: float, trivial: int = 0, split: bool = False, run_all_after: float = 0.0) -> dict:
    """One open: start the kernel, Run All, return the timeline in seconds from the start."""
    nb = nbformat.read(notebook, as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "code"]
    load_before = load_average()
    started = time.monotonic()
    km = KernelManager(kernel_name=kernel_name)
    km.start_kernel(cwd=str(notebook.parent), env=env)
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=120)
        timeline = {"ready": time.monotonic() - started}
        if run_all_after:
            # The analyst reads the notebook before Run All.
            time.sleep(max(0.0, run_all_after - timeline["ready"]))
            timeline["run all"] = time.monotonic() - started
        sources = (SPLIT_CELLS if split else []) + [(cell.get("id", str(i)), cell.source) for i, cell in enumerate(cells)]
        ids = {kc.execute(source): name for name, source in sources}
        pending = dict(ids)
        widgets = WidgetStates()
        panel_shown = False
        deadline = started + timeout
        errors = []
        while pending or "usable" not in timeline:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                models = [{k: m.get(k) for k in ("_model_name", "description", "disabled")} for m in widgets.models.values() if m.get("_model_name") == "ButtonModel"]
                models.append({"panel shown": panel_shown, "selects filled": sum(1 for m in widgets.models.values() if m.get("_model_name") == "SelectModel" and len(m.get("_options_labels", [])) > 1)})
                raise TimeoutError(f"open not finished after {timeout} s: {timeline}, cells pending {sorted(pending.values())}, widgets {models}")
            try:
                msg = kc.get_iopub_msg(timeout=min(remaining, 1.0))
            except Exception:
                msg = None
            while True:
                try:
                    reply = kc.get_shell_msg(timeout=0)
                except Exception:
                    break
                parent = reply["parent_header"].get("msg_id")
                if parent in pending:
                    timeline[f"cell {pending.pop(parent)}"] = time.monotonic() - started
                    if reply["content"]["status"] != "ok":
                        errors.append(reply["content"])
            if msg is None:
                continue
            widgets.observe(msg)
            took = msg["content"].get("data", {}).get("text/plain", "") if msg["msg_type"] == "display_data" else ""
            cell_name = ids.get(msg["parent_header"].get("msg_id"))
            if took.startswith("Took ") and cell_name:
                timeline.update(phases(cell_name, took))
            if msg["msg_type"] in ("display_data", "execute_result") and WIDGET_VIEW in msg["content"]["data"]:
                panel_shown = True
            if "usable" not in timeline and panel_shown and widgets.panel_usable():
                timeline["usable"] = time.monotonic() - started
        if errors:
            raise RuntimeError(f"cells failed: {errors}")
        timeline["idle"] = max(v for k, v in timeline.items() if k.startswith("cell "))
        if "run all" in timeline:
            timeline["usable from run all"] = timeline["usable"] - timeline["run all"]
        timeline["load"] = f"{load_before} -> {load_average()}"
        if trivial:
            times = trivial_cells(kc, trivial)
            timeline["1+1 p50"] = statistics.median(times)
            timeline["1+1 max"] = max(times)
        return timeline
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)


def day_folder(notebook: Path) -> Path:
    """<oa>/ipynb/flow/<date>/ -> <oa>/data/flow/<date>/."""
    date_dir = notebook.parent
    return date_dir.parents[2] / "data" / "flow" / date_dir.name


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", type=Path)
    parser.add_argument("--opens", type=int, default=3)
    parser.add_argument("--cache", choices=["empty", "warm"], default="warm")
    parser.add_argument("--cache-home", type=Path, help="XDG_CACHE_HOME for the kernel (default: a new folder)")
    parser.add_argument("--warm-first", action="store_true", help="run `flow-edge-kernel install` into the cache first")
    parser.add_argument("--evcxr-tmpdir", type=Path, help="set EVCXR_TMPDIR (a folder of the user's choice)")
    parser.add_argument("--kernel", default="flow-edge")
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--json", type=Path, help="append each open's timeline to this file")
    parser.add_argument("--trivial", type=int, default=0, help="then run `1+1` this many times")
    parser.add_argument("--split", action="store_true", help="run the split cells before the notebook's")
    parser.add_argument("--standby", action="store_true",
                        help="let each open's kernel warm a kernel ahead (`flow-edge-kernel standby`) and wait, "
                             "before the next open, until it is ready; the first open finds none")
    parser.add_argument("--run-all-after", type=float, default=0.0, metavar="S",
                        help="send the cells S seconds after the kernel's start (not at once), as an analyst "
                             "who reads the notebook first; adds `usable from run all`")
    args = parser.parse_args()

    notebook = args.notebook.resolve()
    day = day_folder(notebook)
    pristine = Path(tempfile.mkdtemp(prefix="open-notebook-day-"))
    shutil.copytree(day, pristine / "day")
    backup = pristine / "day" / "flow_scores_bu.csv"
    if not backup.exists():
        shutil.copyfile(pristine / "day" / "flow_scores.csv", backup)
    cache_home = args.cache_home or Path(tempfile.mkdtemp(prefix="open-notebook-cache-"))
    cache_home.mkdir(mode=0o700, parents=True, exist_ok=True)
    env = dict(os.environ, XDG_CACHE_HOME=str(cache_home))
    env.pop("EVCXR_TMPDIR", None)
    if args.evcxr_tmpdir:
        args.evcxr_tmpdir.mkdir(mode=0o700, parents=True, exist_ok=True)
        env["EVCXR_TMPDIR"] = str(args.evcxr_tmpdir)
    # Kernels warmed ahead meet in a folder of the benchmark's own, never the user's.
    standby_dir = Path(tempfile.mkdtemp(prefix="open-notebook-standby-"))
    env["FLOW_EDGE_STANDBY_DIR"] = str(standby_dir)
    if not args.standby:
        env["FLOW_EDGE_STANDBY"] = "off"
    spec = KernelSpecManager().get_kernel_spec(args.kernel)
    if args.warm_first:
        prefix = Path(tempfile.mkdtemp(prefix="open-notebook-prefix-"))
        t = time.monotonic()
        subprocess.run([spec.argv[0], "install", "--prefix", str(prefix)], check=True, env=dict(env, **spec.env))
        print(f"install (warming the cache): {time.monotonic() - t:.1f} s", file=sys.stderr)
        shutil.rmtree(prefix)
    timelines = []
    try:
        for n in range(args.opens):
            if args.cache == "empty":
                shutil.rmtree(cache_home / "flow-edge", ignore_errors=True)
                if args.evcxr_tmpdir:
                    shutil.rmtree(args.evcxr_tmpdir)
                    args.evcxr_tmpdir.mkdir(mode=0o700)
            shutil.rmtree(day)
            shutil.copytree(pristine / "day", day)
            timeline = open_once(notebook, args.kernel, env, args.timeout, args.trivial, args.split, args.run_all_after)
            timelines.append(timeline)
            if args.standby and n + 1 < args.opens:
                timeline["standby ready after"] = wait_for_standby(spec, env, args.timeout)
            timeline["open"] = n + 1
            timeline["cache"] = args.cache
            print(json.dumps(timeline), flush=True)
            if args.json:
                with args.json.open("a") as out:
                    out.write(json.dumps(timeline) + "\n")
    finally:
        shutil.rmtree(day)
        shutil.copytree(pristine / "day", day)
        shutil.rmtree(pristine)
        stop_standby(spec, env)
        shutil.rmtree(standby_dir, ignore_errors=True)
    print_medians(timelines)


def standby_status(spec, env: dict) -> str:
    """`flow-edge-kernel standby status` in the kernels' environment."""
    command = [spec.argv[0], "standby", "status"]
    return subprocess.run(command, env=dict(env, **spec.env), capture_output=True, text=True, check=True).stdout


def wait_for_standby(spec, env: dict, timeout: float) -> float:
    """Seconds from the end of an open until the kernel it warmed ahead is ready."""
    started = time.monotonic()
    while "standby: ready" not in standby_status(spec, env):
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"no kernel warmed ahead after {timeout} s: {standby_status(spec, env)}")
        time.sleep(0.5)
    return time.monotonic() - started


def stop_standby(spec, env: dict):
    """Ends the kernel the last open warmed ahead, if any."""
    found = re.search(r"\(pid (\d+)\)", standby_status(spec, env))
    if found:
        os.kill(int(found.group(1)), signal.SIGTERM)


def print_medians(timelines: list):
    """The median of each timed step over the opens, in the timeline's order."""
    keys = [k for k, v in timelines[0].items() if isinstance(v, float)] if timelines else []
    for key in keys:
        values = [t[key] for t in timelines if key in t]
        print(f"p50 {key}: {statistics.median(values):.3f} s (n={len(values)}, min {min(values):.3f}, max {max(values):.3f})")


if __name__ == "__main__":
    main()
