"""The library in the real evcxr REPL (crate evcxr_repl 0.22), driven through piped stdin.

Without the flow-edge kernel there are no live widgets: the panel prints the listbox values
and how to score from code, and scoring, undo, saving, rules, heuristics and restore work by
method calls that print comfy-table views. The test checks the printed text and the files.

Run: .venv/bin/python -m pytest -q tests/repl   (needs `evcxr` on PATH or in ~/.cargo/bin)
"""

import csv
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
DATE = "20160708"


def evcxr_binary() -> str:
    found = shutil.which("evcxr") or str(Path.home() / ".cargo" / "bin" / "evcxr")
    if not Path(found).is_file():
        pytest.fail(
            "the evcxr REPL is not installed: cargo install evcxr_repl --version 0.22.0 --locked",
            pytrace=False,
        )
    return found


@pytest.fixture()
def oa_day(tmp_path):
    cli = TARGET / "release" / "flow-edge"
    env = dict(os.environ, FLOW_EDGE_CLI=str(cli))
    subprocess.run([REPO / "scripts" / "make-demo-tree", tmp_path, "2000", DATE], check=True, env=env, capture_output=True)
    day = tmp_path / "data" / "flow" / DATE
    lists = json.loads(subprocess.run([cli, "lists", day, "--json"], check=True, capture_output=True, text=True).stdout)
    return tmp_path, day, lists


def read_rows(path: Path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def run_repl(lines, cwd: Path) -> str:
    result = subprocess.run(
        [evcxr_binary()],
        input="\n".join(lines) + "\n",
        cwd=cwd,
        env=dict(os.environ, NO_COLOR="1"),
        capture_output=True,
        text=True,
        timeout=900,
    )
    return result.stdout + result.stderr


def test_the_library_in_the_evcxr_repl_scores_saves_and_restores_by_method_calls(oa_day):
    root, day, lists = oa_day
    original = read_rows(day / "flow_scores.csv")
    src_ip, quick_ip = lists["src_ips"][0], lists["dst_ips"][1]
    src_count = sum(r["srcIP"] == src_ip for r in original)
    quick_count = sum(quick_ip in (r["srcIP"], r["dstIP"]) for r in original)

    output = run_repl(
        [
            f':dep flow-edge = {{ path = "{REPO}" }}',
            "use flow_edge::{Day, Selection};",
            "let mut day = Day::from_notebook_dir(std::env::current_dir()?)?;",
            "day.set_coff(250);",
            "let panel = day.panel()?;",
            "panel",
            f'panel.preview(&Selection::new().src_ip("{src_ip}"))?',
            f'panel.score(&Selection::new().src_ip("{src_ip}"), 1)?',
            'panel.score(&Selection::new().quick_ip("10.0.0.300"), 1)?',
            "panel.undo()?",
            f'panel.score(&Selection::new().src_ip("{src_ip}"), 1)?',
            f'day.score(&Selection::new().quick_ip("{quick_ip}"), 3)?',
            "panel.undo()?",
            "day.save_and_sort()?",
            'println!("SORTED {}", std::fs::read_to_string(&day.paths().flow)?.lines().nth(1).unwrap_or(""));',
            "flow_edge::apply_rules(&day, &flow_edge::RuleSet::original(), flow_edge::ApplyOptions::default())?",
            "flow_edge::attack_heuristics(&day, flow_edge::FanOut::Rows, 20)?",
            "day.restore_backup()?",
            'println!("RESTORED");',
        ],
        cwd=root / "ipynb" / "flow" / DATE,
    )

    # The panel: what the rules did on opening, the listbox values with names, and how to score
    # from code.
    ruled = sum(
        r["sev"] == "0" and (
            (int(r["dport"]) <= 1024 and int(r["ibyt"]) <= 54)
            or (int(r["dport"]) <= 1024 and int(r["ipkt"]) == 3 and int(r["ibyt"]) == 152)
            or (int(r["sport"]) == 0 and int(r["dport"]) <= 1023)
        )
        for r in original
    )
    assert ruled > 0
    assert f"rules: {ruled} rows → 2; `dport <= 1024 and ibyt <= 54`: " in output, output
    assert output.index("rules: ") < output.index("Source IP"), output
    assert "Source IP" in output and "Dst Port" in output, output
    assert "(Mail server)" in output or "(Corporate network)" in output, output
    assert "Score from code" in output, output
    assert "No live widgets here" in output, output
    # Preview, scoring, a refused selection, undo.
    assert f"would score {src_count} row" in output, output
    # The preview's addresses carry their reputation, place and domain on a second line.
    assert any(badge in output for badge in ["[high]", "[medium]", "[low]", "[unknown]"]), output
    assert output.count(f"{src_count} matching connections scored") == 2, output
    assert "nothing scored: quick IP \"10.0.0.300\" is not an IPv4 or IPv6 address" in output, output
    assert f"Last scoring undone: {src_count} rows" in output, output
    assert f"{quick_count} matching connections scored" in output, output
    # The second panel scoring was followed by a scoring outside the panel: undo refuses.
    assert "nothing undone: flow_scores.csv or flow_scores_fb.csv changed since that scoring" in output, output
    # Save, rules, heuristics, restore.
    assert "suspicious connects saved and sorted" in output, output
    assert "SORTED 0," in output, output
    assert "dport <= 1024 and ibyt <= 54" in output and "rows scored by rules" in output, output
    assert "sources have more than 20 rows (connections)" in output, output
    assert "destinations" in output, output
    assert "RESTORED" in output, output

    # The files: the feedback holds the kept scorings, the flows are the backup again.
    with open(day / "flow_scores_fb.csv") as f:
        feedback = [line.rstrip("\n").split("\t") for line in f][1:]
    assert len(feedback) == src_count + quick_count
    assert all(row[0] == "1" and row[2] == src_ip for row in feedback[:src_count])
    assert all(row[0] == "3" and quick_ip in (row[2], row[3]) for row in feedback[src_count:])
    assert (day / "flow_scores.csv").read_bytes() == (day / "flow_scores_bu.csv").read_bytes()
