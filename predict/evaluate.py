"""The same held-out evaluation for the model and every baseline, and a readable report."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

TOP_FRACTIONS = (0.01, 0.05, 0.10)
N_BINS = 10


def reliability_table(y: np.ndarray, p: np.ndarray, n_bins: int = N_BINS) -> pd.DataFrame:
    """Equal-count bins of predicted probability: mean predicted, observed rate, rows."""
    order = np.argsort(p, kind="stable")
    bins = np.array_split(order, min(n_bins, max(1, len(p))))
    rows = [
        {"rows": len(b), "predicted": float(p[b].mean()), "observed": float(y[b].mean())}
        for b in bins
        if len(b)
    ]
    return pd.DataFrame(rows, columns=["rows", "predicted", "observed"])


def expected_calibration_error(y: np.ndarray, p: np.ndarray, n_bins: int = N_BINS) -> float:
    """Row-weighted mean |observed − predicted| over equal-count bins."""
    t = reliability_table(y, p, n_bins)
    if t.empty:
        return float("nan")
    return float(np.sum(t["rows"] * (t["observed"] - t["predicted"]).abs()) / t["rows"].sum())


def precision_at(y: np.ndarray, p: np.ndarray, fraction: float) -> float:
    """Share of failures among the ``fraction`` highest-scored rows."""
    k = max(1, int(round(len(p) * fraction)))
    top = np.argsort(-p, kind="stable")[:k]
    return float(y[top].mean())


def binary_metrics(y: Any, p: Any) -> dict[str, Any]:
    """PR-AUC, ROC-AUC, precision at top 1/5/10 %, Brier, ECE and the reliability table.

    >>> m = binary_metrics([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9])
    >>> m["pr_auc"], m["roc_auc"]
    (1.0, 1.0)
    """
    yy = np.asarray(y, dtype=bool)
    pp = np.asarray(p, dtype=np.float64)
    both = 0 < yy.sum() < len(yy)
    out: dict[str, Any] = {
        "rows": int(len(yy)),
        "positives": int(yy.sum()),
        "base_rate": float(yy.mean()) if len(yy) else float("nan"),
        "pr_auc": float(average_precision_score(yy, pp)) if both else float("nan"),
        "roc_auc": float(roc_auc_score(yy, pp)) if both else float("nan"),
        "brier": float(brier_score_loss(yy, pp)) if len(yy) else float("nan"),
        "ece": expected_calibration_error(yy.astype(float), pp),
    }
    for f in TOP_FRACTIONS:
        out[f"precision_top_{int(f * 100)}pct"] = precision_at(yy, pp, f) if len(yy) else np.nan
    out["reliability"] = reliability_table(yy.astype(float), pp).to_dict(orient="records")
    return out


def evaluate(
    y: Any,
    predictions: Mapping[str, Any],
    categories: Any = None,
    *,
    min_category_rows: int = 50,
) -> dict[str, Any]:
    """``{model_name: {"overall": metrics, "by_category": {cat: metrics}}}`` on the same rows."""
    yy = np.asarray(y, dtype=bool)
    cats = None if categories is None else np.asarray(pd.Series(categories).astype("str"))
    result: dict[str, Any] = {}
    for name, p in predictions.items():
        pp = np.asarray(p, dtype=np.float64)
        entry: dict[str, Any] = {"overall": binary_metrics(yy, pp), "by_category": {}}
        if cats is not None:
            for c in sorted(set(cats)):
                sel = cats == c
                if sel.sum() >= min_category_rows:
                    entry["by_category"][c] = binary_metrics(yy[sel], pp[sel])
        result[name] = entry
    return result


def _fmt(v: Any) -> str:
    return "—" if v is None or (isinstance(v, float) and not np.isfinite(v)) else f"{v:.4f}"


_COLS = [
    ("pr_auc", "PR-AUC"),
    ("roc_auc", "ROC-AUC"),
    ("precision_top_1pct", "P@1%"),
    ("precision_top_5pct", "P@5%"),
    ("precision_top_10pct", "P@10%"),
    ("brier", "Brier"),
    ("ece", "ECE"),
]


def evaluation_report(metrics: Mapping[str, Any], *, title: str = "Evaluation") -> str:
    """Markdown: overall table, per-category tables, reliability of the first model."""
    lines = [f"# {title}", ""]
    head = "| model | rows | positives | " + " | ".join(h for _, h in _COLS) + " |"
    sep = "|" + "---|" * (len(_COLS) + 3)

    def row(name: str, m: Mapping[str, Any]) -> str:
        vals = " | ".join(_fmt(m.get(k)) for k, _ in _COLS)
        return f"| {name} | {m['rows']} | {m['positives']} | {vals} |"

    lines += ["## Overall (test period)", "", head, sep]
    lines += [row(n, e["overall"]) for n, e in metrics.items()]
    cats = sorted({c for e in metrics.values() for c in e.get("by_category", {})})
    for c in cats:
        lines += ["", f"## {c}", "", head, sep]
        lines += [row(n, e["by_category"][c]) for n, e in metrics.items() if c in e["by_category"]]
    first = next(iter(metrics), None)
    if first is not None:
        lines += ["", f"## Reliability ({first}, equal-count bins)", ""]
        lines += ["| bin | rows | mean predicted | observed |", "|---|---|---|---|"]
        for i, r in enumerate(metrics[first]["overall"]["reliability"], 1):
            lines.append(f"| {i} | {r['rows']} | {r['predicted']:.4f} | {r['observed']:.4f} |")
    return "\n".join(lines) + "\n"
