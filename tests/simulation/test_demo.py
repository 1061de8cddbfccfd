"""``patrimoine demo --no-serve`` end to end on a fresh workspace."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from patrimoine.cli import cli


@pytest.mark.slow
def test_demo_runs_end_to_end(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["--workspace", str(tmp_path / "ws"), "demo", "--no-serve", "--estates", "1"]
    )
    assert result.exit_code == 0, result.output
    for step in (
        "[1/5] ingest",
        "[2/5] simulate",
        "[3/5] train",
        "[4/5] score",
        "[5/5] plan",
        "Demo finished",
    ):
        assert step in result.output
    assert "164 dwellings" in result.output
    assert (tmp_path / "ws" / "simulation" / "truth" / "monthly_risk.parquet").exists()
    assert list((tmp_path / "ws" / "plans").glob("plan-*.csv"))
