"""The README and the design notes speak of every CLI verb and setting (Datasette's habit)."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from patrimoine.cli import cli

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
DESIGN = (ROOT / "docs" / "design.md").read_text(encoding="utf-8")


def _verbs(group: click.Group, prefix: str = "") -> list[str]:
    verbs = []
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            verbs += _verbs(command, f"{prefix}{name} ")
        else:
            verbs.append(f"{prefix}{name}")
    return verbs


@pytest.mark.parametrize("verb", _verbs(cli))
def test_every_verb_is_in_the_readme(verb: str) -> None:
    assert f"patrimoine {verb}" in README, f"README.md does not show 'patrimoine {verb}'"


@pytest.mark.parametrize("option", [p.opts[-1] for p in cli.params if p.opts[-1].startswith("--")])
def test_every_global_option_is_documented(option: str) -> None:
    if option in {"--help", "--version"}:
        return
    assert option in README


@pytest.mark.parametrize("variable", ["PATRIMOINE_WORKSPACE", "PATRIMOINE_DB_URL"])
def test_settings_variables_are_documented(variable: str) -> None:
    assert variable in README


def test_readme_opens_with_the_two_commands() -> None:
    head = README[:400]
    assert "make demo" in head
    assert "make test" in head


def test_design_notes_are_in_the_repository() -> None:
    assert "## Contracts" in DESIGN
