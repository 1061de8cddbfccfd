"""Registry features: age, life, type, building and what the asset serves (no time series)."""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Columns treated as categoricals by LightGBM.
CATEGORICAL_COLUMNS = ["category", "type_name", "manufacturer", "model", "serves"]
STATIC_NUMERIC = [
    "age_years",
    "age_over_life",
    "expected_life_years",
    "building_age_years",
    "storeys",
    "dwellings_served",
    "month",
]


def static_features(skeleton: pd.DataFrame, buildings: pd.DataFrame | None = None) -> pd.DataFrame:
    """Age, age over expected life, building facts and categoricals per (asset, cutoff).

    ``skeleton`` is the asset/cutoff frame with the registry columns of ``assets_frame``
    (``installed_on``, ``expected_life_years``, ``year_built``, ``building_id``, ``serves`` …);
    ``buildings`` (``building_id, storeys, dwellings``) adds storeys and dwellings served.

    Examples
    --------
    >>> sk = pd.DataFrame({"asset_ref": ["A"], "cutoff": [pd.Timestamp("2024-01-01")],
    ...     "installed_on": [pd.Timestamp("2014-01-01")], "expected_life_years": [20.0],
    ...     "category": ["boiler"], "serves": ["dwelling"]})
    >>> round(float(static_features(sk).loc[0, "age_over_life"]), 2)
    0.5
    """

    def col(name: str) -> pd.Series:
        if name in skeleton:
            return skeleton[name]
        return pd.Series(np.nan, index=skeleton.index, dtype="float64")

    cut = pd.to_datetime(skeleton["cutoff"])
    out = pd.DataFrame({"asset_ref": skeleton["asset_ref"].astype("str"), "cutoff": cut})
    installed = pd.to_datetime(col("installed_on"))
    out["age_years"] = (cut - installed).dt.days.astype("float64") / 365.25
    life = pd.to_numeric(col("expected_life_years"), errors="coerce").astype("float64")
    out["age_over_life"] = out["age_years"] / life.where(life > 0)
    out["expected_life_years"] = life
    year_built = pd.to_numeric(col("year_built"), errors="coerce").astype("float64")
    out["building_age_years"] = cut.dt.year.astype("float64") - year_built
    storeys = pd.Series(np.nan, index=skeleton.index)
    dwellings = pd.Series(np.nan, index=skeleton.index)
    if buildings is not None and "building_id" in skeleton:
        b = buildings.set_index("building_id")
        storeys = skeleton["building_id"].map(b["storeys"]).astype("float64")
        dwellings = skeleton["building_id"].map(b["dwellings"]).astype("float64")
    serves = skeleton.get("serves")
    serves = serves.astype("str") if serves is not None else pd.Series("", index=skeleton.index)
    out["storeys"] = storeys.to_numpy(dtype=np.float64, na_value=np.nan)
    out["dwellings_served"] = np.where(
        serves == "dwelling",
        1.0,
        np.where(
            serves == "building", dwellings.to_numpy(dtype=np.float64, na_value=np.nan), np.nan
        ),
    )
    out["month"] = cut.dt.month.astype("float64")
    for col in CATEGORICAL_COLUMNS:
        values = skeleton[col] if col in skeleton else pd.Series(None, index=skeleton.index)
        out[col] = values.astype("str").where(values.notna(), None).astype("str")
    return out
