"""The analysts' notebooks run end to end on a demo workspace, so they cannot drift from the API."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner
from nbclient import NotebookClient

from patrimoine.cli import cli

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


@pytest.fixture(scope="module")
def demo_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = tmp_path_factory.mktemp("notebooks") / "ws"
    result = CliRunner().invoke(
        cli, ["--workspace", str(ws), "demo", "--no-serve", "--estates", "1"]
    )
    assert result.exit_code == 0, result.output
    return ws


def test_there_are_notebooks() -> None:
    assert NOTEBOOKS


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_end_to_end(path: Path, demo_workspace: Path, monkeypatch) -> None:  # noqa: ANN001
    notebook = nbformat.read(path, as_version=4)
    assert all(not c.get("outputs") for c in notebook.cells if c.cell_type == "code"), (
        f"{path.name} is stored with outputs: clear them before committing"
    )
    monkeypatch.setenv("PATRIMOINE_WORKSPACE", str(demo_workspace))
    monkeypatch.setenv("OMP_WAIT_POLICY", os.environ.get("OMP_WAIT_POLICY", "passive"))
    NotebookClient(notebook, timeout=300, kernel_name="python3").execute()
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    assert "active assets" in text
