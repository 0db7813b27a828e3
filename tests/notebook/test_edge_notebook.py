"""The Edge Investigation notebook, run headless from top to bottom with nbclient.

A generated day in a temporary Spot OA tree (scripts/make-demo-tree, a realistic day: probes the
original's rules catch, Spot-style context columns), the notebook copied into
<oa>/ipynb/flow/<date>/ unchanged, executed with the flow-edge kernel from that folder.

Run: scripts/build-kernel && .venv/bin/python -m pytest -q tests/notebook
"""

import copy
import csv
import os
import re
import subprocess
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[2]
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
DATE = "20160708"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


@pytest.fixture()
def oa_tree(tmp_path, monkeypatch):
    """A 3000-row day; the upload reads a configuration file that does not exist."""
    env = dict(os.environ, FLOW_EDGE_CLI=str(TARGET / "release" / "flow-edge"))
    subprocess.run(
        [REPO / "scripts" / "make-demo-tree", tmp_path, "3000", DATE], check=True, env=env, capture_output=True
    )
    monkeypatch.setenv("FLOW_EDGE_SPOT_CONF", str(tmp_path / "missing-spot.conf"))
    return tmp_path


def run(notebook_path: Path) -> nbformat.NotebookNode:
    nb = nbformat.read(notebook_path, as_version=4)
    client = NotebookClient(
        nb,
        kernel_name="flow-edge",
        timeout=900,
        resources={"metadata": {"path": str(notebook_path.parent)}},
        store_widget_state=True,
    )
    client.execute()
    return nb


def cell(nb, cell_id):
    return next(c for c in nb.cells if c.get("id") == cell_id)


def text_of(code_cell) -> str:
    parts = []
    for output in code_cell.outputs:
        if output.output_type == "stream":
            parts.append(output.text)
        elif "data" in output:
            parts.append(output.data.get("text/plain", ""))
            parts.append(output.data.get("text/html", ""))
    return "\n".join(parts)


def errors(nb):
    return [
        o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"
    ]


def widget_models(nb):
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    return list(state.values())


def test_the_notebook_runs_unchanged_in_an_oa_day_folder_and_shows_the_panel(oa_tree):
    notebook = oa_tree / "ipynb" / "flow" / DATE / "Edge_Investigation.ipynb"
    nb = run(notebook)
    assert errors(nb) == []
    day = oa_tree / "data" / "flow" / DATE
    assert str(day / "flow_scores.csv") in text_of(cell(nb, "initialise"))

    panel_outputs = cell(nb, "panel").outputs
    views = [o for o in panel_outputs if "data" in o and WIDGET_VIEW in o.data]
    assert len(views) == 1, panel_outputs

    models = widget_models(nb)
    selects = [m["state"] for m in models if m["model_name"] == "SelectModel"]
    assert len(selects) == 4
    assert all(s["_options_labels"][0] == "- Select -" for s in selects)
    assert all(s["layout"] for s in selects)
    source_labels = selects[0]["_options_labels"]
    assert any("(Mail server)" in label or "(Corporate network)" in label for label in source_labels)
    htmls = " ".join(m["state"].get("value", "") for m in models if m["model_name"] == "HTMLModel")
    for heading in ["Source IP", "Dest IP", "Src Port", "Dst Port", "1 high"]:
        assert heading in htmls
    buttons = {m["state"]["description"]: m["state"] for m in models if m["model_name"] == "ButtonModel"}
    assert buttons["Score"]["button_style"] == "primary"
    assert buttons["Save"]["button_style"] == "primary"
    assert "Undo" in buttons
    radios = [m["state"] for m in models if m["model_name"] == "RadioButtonsModel"]
    assert radios[0]["_options_labels"] == ["1", "2", "3"]

    # The rules ran when the panel opened, as the original's displaythis() ran set_rules(): each
    # unscored row they match now has severity 2, nothing else changed, nothing was fed back.
    before, after = read_rows(day / "flow_scores_bu.csv"), read_rows(day / "flow_scores.csv")
    assert len(before) == len(after)
    ruled = 0
    for old, new in zip(before, after):
        expected = "2" if old["sev"] == "0" and original_rule_matches(old) else old["sev"]
        assert new == {**old, "sev": expected}
        ruled += expected != old["sev"]
    assert ruled > 0
    assert not (day / "flow_scores_fb.csv").exists()
    assert f"rules: {ruled} rows → 2; `dport &lt;= 1024 and ibyt &lt;= 54`: " in htmls, htmls
    # The rules cell shows its rules; the scored table shows reputation badges.
    assert "sport == 0 and dport &lt;= 1023 -&gt; 2" in text_of(cell(nb, "set-rules"))
    assert "flow-edge-rep-" in htmls
    # The heuristics cell runs the original's count, with a chart.
    heuristics = text_of(cell(nb, "attack-heuristics"))
    assert re.search(r"\d+ of \d+ sources have more than 20 rows \(connections\)", heuristics), heuristics
    assert "<svg" in heuristics and "rows (connections) per source" in heuristics


def read_rows(path: Path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def original_rule_matches(row) -> bool:
    """The original notebook's three applied rules (set_rules)."""
    sport, dport, ipkt, ibyt = (int(row[c]) for c in ("sport", "dport", "ipkt", "ibyt"))
    return (
        (dport <= 1024 and ibyt <= 54)
        or (dport <= 1024 and ipkt == 3 and ibyt == 152)
        or (sport == 0 and dport <= 1023)
    )


def uncomment(nb, cell_id):
    target = cell(nb, cell_id)
    target.source = "\n".join(line.removeprefix("// ") for line in target.source.splitlines())


def test_the_documented_heuristics_and_the_restore_run_when_chosen(oa_tree):
    notebook = oa_tree / "ipynb" / "flow" / DATE / "Edge_Investigation.ipynb"
    nb = nbformat.read(notebook, as_version=4)
    edited = copy.deepcopy(nb)
    uncomment(edited, "restore-backup")
    heuristics_cell = cell(edited, "attack-heuristics")
    assert "attack_heuristics(&day, FanOut::Rows, 20)" in heuristics_cell.source
    heuristics_cell.source = heuristics_cell.source.replace(
        "attack_heuristics(&day, FanOut::Rows, 20)", "attack_heuristics(&day, FanOut::Destinations, 20)"
    )
    nbformat.write(edited, notebook)
    day = oa_tree / "data" / "flow" / DATE
    original = (day / "flow_scores.csv").read_bytes()

    nb = run(notebook)
    assert errors(nb) == []
    rules = text_of(cell(nb, "set-rules"))
    assert "dport <= 1024 and ibyt <= 54" in rules
    heuristics = text_of(cell(nb, "attack-heuristics"))
    assert "sources connect to more than 20 destinations" in heuristics, heuristics
    assert "distinct destinations per source" in heuristics, heuristics
    # The rules scored rows, and the restore cell (last) put the original back.
    assert (day / "flow_scores.csv").read_bytes() == original
