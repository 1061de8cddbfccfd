"""``patrimoine simulate --parameters FILE``: another world from a user's parameters.json."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from patrimoine.cli import cli
from simulation import ParameterError, load_parameters, read_parameters_file

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_ifc"


def _write(path: Path, params: dict) -> Path:
    path.write_text(json.dumps(params), encoding="utf-8")
    return path


def test_simulate_with_a_parameters_file_uses_it(tmp_path: Path) -> None:
    ws = str(tmp_path / "ws")
    runner = CliRunner()
    ingest = runner.invoke(
        cli, ["--workspace", ws, "ingest", *map(str, sorted(SAMPLE.glob("*.ifc")))]
    )
    assert ingest.exit_code == 0, ingest.output
    params = load_parameters()
    params["classes"]["radiator"]["events_per_year"] = 0.3  # thirty times the shipped rate
    path = _write(tmp_path / "leaky-radiators.json", params)
    counts = {}
    for name, extra in (("shipped", []), ("busy", ["--parameters", str(path)])):
        args = ["--workspace", ws, "simulate", "--years", "1", "--seed", "3", "--no-import"]
        result = runner.invoke(cli, args + extra)
        assert result.exit_code == 0, result.output
        truth = tmp_path / "ws" / "simulation" / "truth"
        used = json.loads((truth / "parameters.json").read_text(encoding="utf-8"))
        assert used["classes"]["radiator"]["events_per_year"] == (0.3 if extra else 0.01)
        counts[name] = len(pd.read_parquet(truth / "failures.parquet"))
    assert counts["busy"] > 2 * counts["shipped"]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda p: p["hazard"].pop("p_rework"), "hazard.p_rework: missing"),
        (
            lambda p: p["classes"]["boiler_individual"].__setitem__("p_prog", 1.4),
            "classes.boiler_individual.p_prog: a probability must be in [0, 1]",
        ),
        (
            lambda p: p["classes"]["pump"].__setitem__("events_per_year", -1),
            "classes.pump.events_per_year: must be >= 0",
        ),
        (
            lambda p: p["classes"]["pump"].__setitem__("modes", {"grinding": 1.0}),
            "unknown fault mode(s) ['grinding']",
        ),
        (lambda p: p["sensors"].__setitem__("missing_day_share", "2 %"), "expected a list"),
    ],
)
def test_bad_parameters_are_refused_naming_the_file_and_key(tmp_path: Path, edit, message) -> None:
    params = load_parameters()
    edit(params)
    path = _write(tmp_path / "mine.json", params)
    with pytest.raises(ParameterError) as err:
        read_parameters_file(path)
    assert str(path) in str(err.value)
    assert message in str(err.value)


def test_cli_refuses_broken_json_before_touching_the_workspace(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"weather": {', encoding="utf-8")
    ws = tmp_path / "ws"
    result = CliRunner().invoke(
        cli, ["--workspace", str(ws), "simulate", "--years", "1", "--parameters", str(path)]
    )
    assert result.exit_code == 2
    assert "--parameters" in result.output
    assert "not valid JSON (line 1" in result.output
    assert not (ws / "simulation").exists()


def test_the_blind_world_of_the_benchmark_is_valid() -> None:
    params = read_parameters_file(ROOT / "benchmarks" / "worlds" / "blind-1.json")
    assert (
        params["hazard"]["site_frailty_sigma"] != load_parameters()["hazard"]["site_frailty_sigma"]
    )
