"""CSV files for a landlord's other tools: what goes in comes back, and a failure writes nothing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from asset_model import PatrimoineError, write_csv


def test_a_frame_comes_back_from_its_csv(tmp_path) -> None:  # noqa: ANN001
    frame = pd.DataFrame(
        {
            "asset_ref": ["2O2Fr$t4X7Zf8NOew3FLOH", "CHAUD-0002", "VMC 3"],
            "building": ['Bâtiment "A", aile nord', "Résidence des Érables", "ligne 1\nligne 2"],
            "category": pd.Categorical(["boiler", "pump", "boiler"]),
            "p_failure": [0.07752951292471447, 1e-9, np.nan],
            "remaining_life_years": [10.87, 0.01, 3.0],
            "drivers": ["cycles up 60 % over 30 days; service overdue by 8 months", "", None],
        }
    )
    path = tmp_path / "scores.csv"
    assert write_csv(frame, path) == 3
    back = pd.read_csv(path, keep_default_na=False, na_values=[""])
    expected = frame.astype({"category": "str"}).replace({"": np.nan})
    pd.testing.assert_frame_equal(back, expected.astype(back.dtypes.to_dict()), check_exact=True)


def test_a_failed_write_keeps_the_old_file(tmp_path) -> None:  # noqa: ANN001
    path = tmp_path / "scores.csv"
    path.write_text("old\n", encoding="utf-8")
    unwritable = pd.DataFrame({"x": [object(), object()]})
    with pytest.raises(Exception):  # noqa: B017, PT011 - whatever Arrow raises for an object
        write_csv(unwritable, path)
    assert path.read_text(encoding="utf-8") == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["scores.csv"]


def test_bad_paths_are_named(tmp_path) -> None:  # noqa: ANN001
    frame = pd.DataFrame({"x": [1]})
    with pytest.raises(PatrimoineError, match="is a folder"):
        write_csv(frame, tmp_path)
    with pytest.raises(PatrimoineError, match="no such folder"):
        write_csv(frame, tmp_path / "missing" / "scores.csv")
