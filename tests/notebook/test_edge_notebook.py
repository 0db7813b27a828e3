"""The Edge Investigation notebook, run headless from top to bottom with nbclient.

A generated day in a temporary Spot OA tree (scripts/make-demo-tree), the notebook copied into
<oa>/ipynb/flow/<date>/ unchanged, executed with the flow-edge kernel from that folder.

Run: scripts/build-kernel && .venv/bin/python -m pytest -q tests/notebook
"""

import copy
import os
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

    # The optional cells are commented out, as in the original: nothing changed on disk.
    assert (day / "flow_scores.csv").read_bytes() == (day / "flow_scores_bu.csv").read_bytes()


def uncomment(nb, cell_id):
    target = cell(nb, cell_id)
    target.source = "\n".join(line.removeprefix("// ") for line in target.source.splitlines())


def test_the_optional_cells_run_when_uncommented(oa_tree):
    notebook = oa_tree / "ipynb" / "flow" / DATE / "Edge_Investigation.ipynb"
    nb = nbformat.read(notebook, as_version=4)
    edited = copy.deepcopy(nb)
    for cell_id in ["set-rules", "attack-heuristics", "restore-backup"]:
        uncomment(edited, cell_id)
    nbformat.write(edited, notebook)
    day = oa_tree / "data" / "flow" / DATE
    original = (day / "flow_scores.csv").read_bytes()

    nb = run(notebook)
    assert errors(nb) == []
    rules = text_of(cell(nb, "set-rules"))
    assert "dport <= 1024 and ibyt <= 54" in rules
    heuristics = text_of(cell(nb, "attack-heuristics"))
    assert "distinct" in heuristics.lower() or "destinations" in heuristics.lower(), heuristics
    # The rules scored rows, and the restore cell (last) put the original back.
    assert (day / "flow_scores.csv").read_bytes() == original
