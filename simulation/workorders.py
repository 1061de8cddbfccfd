"""The landlord's work orders: failures, replacements, visits, inspections, noise jobs, with
logging delays, durations, costs (§1.3, lognormal σ 0.35) and short French descriptions."""

from __future__ import annotations

import numpy as np
import pandas as pd

FAILURE_TEXT = {
    "cycling": ["Mise en sécurité chaudière", "Défaut d'allumage", "Défaut ionisation flamme"],
    "efficiency": ["Perte de performance, encrassement échangeur", "Fuite circuit", "Panne ECS"],
    "doors": ["Porte palière bloquée", "Ascenseur à l'arrêt, défaut porte cabine"],
    "belt_bearing": ["Courroie cassée caisson VMC", "Roulement moteur VMC HS"],
    "bearing": ["Circulateur bloqué", "Roulement circulateur bruyant puis arrêt"],
    "sudden": ["Panne carte électronique", "Fuite", "Panne soudaine", "Disjonction"],
    "rework": ["Reprise intervention précédente", "Panne récidivante"],
    "end_of_life": ["Panne irréparable, appareil hors d'usage"],
}


def work_orders_frame(
    assets, wo, rep, visits, params, rng, day0, days, chunk_id, names, cls_idx
) -> pd.DataFrame:  # fmt: skip
    n = len(assets)
    cls = assets["sim_class"].to_numpy(object)
    parts = []
    for idx, d, kind, key in wo:
        parts.append((idx, np.full(len(idx), d), kind, key))
    for idx, d, reason in rep:
        parts.append((idx, np.full(len(idx), d + 1), "replacement", reason))
    vi, vd = np.nonzero(visits)
    if len(vi):
        parts.append((vi, vd, "preventive", "visit"))
    # inspections and noise correctives, independent of the hidden state
    for i, c in enumerate(names):
        spec = params["classes"][c]
        m = np.nonzero(cls_idx == i)[0]
        if not len(m):
            continue
        insp = spec.get("inspection")
        if insp:
            step = insp["interval_days"]
            phase = rng.integers(0, step, len(m))
            for kk in range(days // step + 1):
                dd = phase + kk * step
                ok = dd < days
                parts.append((m[ok], dd[ok], "inspection", "inspection"))
        rate = spec["corrective_per_year"] * days / 365.25
        cnt = rng.poisson(rate, len(m))
        if cnt.sum():
            ii = np.repeat(m, cnt)
            parts.append((ii, rng.integers(0, days, len(ii)), "corrective", "noise"))
    if not parts:
        return pd.DataFrame(
            columns=[
                "work_order_id",
                "asset_ref",
                "opened_at",
                "closed_at",
                "kind",
                "cost_eur",
                "labour_hours",
                "trade",
                "description",
            ]
        )
    idx = np.concatenate([p[0] for p in parts])
    d = np.concatenate([p[1] for p in parts]).astype(np.float64)
    kind = np.concatenate([np.full(len(p[0]), p[2], dtype=object) for p in parts])
    key = np.concatenate(
        [
            np.asarray(p[3], dtype=object)
            if isinstance(p[3], np.ndarray)
            else np.full(len(p[0]), p[3], dtype=object)
            for p in parts
        ]
    )
    m = len(idx)
    wop = params["work_orders"]
    delay = rng.lognormal(np.log(wop["logging_delay_median_days"]), wop["logging_delay_sigma"], m)
    hours = np.where(kind == "failure", delay, 8 / 24 + rng.random(m) * 9 / 24)
    opened_days = np.where(kind == "failure", d + np.minimum(hours, 20), d + hours)
    specs = [params["classes"][c] for c in cls[idx]]
    res = np.array([s["resolution_days_mean"] for s in specs])
    dur = np.where(
        kind == "failure", rng.exponential(res), np.where(kind == "replacement", 1.0, 0.2)
    )
    cost_key = {
        "failure": "cost_failure_eur",
        "replacement": "cost_replacement_eur",
        "preventive": "cost_preventive_eur",
        "corrective": "cost_corrective_eur",
        "inspection": None,
    }
    base_cost = np.array(
        [
            (s.get("inspection") or {}).get("cost_eur", 200)
            if cost_key[kk] is None
            else s[cost_key[kk]]
            for s, kk in zip(specs, kind, strict=True)
        ],
        dtype=np.float64,
    )
    cost = np.round(base_cost * rng.lognormal(-(wop["cost_sigma"] ** 2) / 2, wop["cost_sigma"], m))
    labour = np.round(np.clip(cost / 65.0, 0.5, 400), 1)
    texts = _descriptions(kind, key, cls[idx], rng, specs)
    fmodes = None
    _ = fmodes, n
    opened = day0 + pd.to_timedelta(np.round(opened_days * 1440), unit="min")
    closed = opened + pd.to_timedelta(np.round(dur * 1440), unit="min")
    frame = pd.DataFrame(
        {
            "asset_ref": assets["asset_ref"].to_numpy(object)[idx],
            "opened_at": opened,
            "closed_at": closed,
            "kind": kind,
            "cost_eur": cost,
            "labour_hours": labour,
            "trade": [s["trade"] for s in specs],
            "description": texts,
        }
    )
    # every failure keeps its work order (one logged just after the end stays in the extract)
    end = day0 + pd.Timedelta(days=days)
    frame = frame[(frame["opened_at"] < end) | (frame["kind"] == "failure")]
    frame = frame.sort_values(["opened_at", "asset_ref"], kind="stable").reset_index(drop=True)
    frame.insert(0, "work_order_id", [f"OT{chunk_id:05d}-{i + 1:07d}" for i in range(len(frame))])
    frame["opened_at"] = frame["opened_at"].dt.strftime("%Y-%m-%d %H:%M:%S")
    frame["closed_at"] = frame["closed_at"].dt.strftime("%Y-%m-%d %H:%M:%S")
    return frame


_VISIT_TEXT = {
    "boiler_individual": "Entretien annuel chaudière (attestation)",
    "boiler_collective": "Entretien annuel chaufferie, ramonage",
    "heat_pump": "Entretien biennal pompe à chaleur",
    "dhw_storage": "Détartrage préparateur ECS, contrôle légionelle",
    "ventilation_fan": "Visite annuelle VMC gaz, changement courroie, test DSC",
    "pump": "Visite annuelle circulateurs",
    "elevator": "Visite d'entretien ascenseur (6 semaines)",
}
_NOISE_TEXT = [
    "Réglage thermostat", "Purge radiateur", "Robinet thermostatique bloqué",
    "Bruit signalé par le locataire", "Nettoyage seuil porte", "Remplacement voyant",
]  # fmt: skip


def _descriptions(kind, key, cls, rng, specs) -> list[str]:
    out = []
    pick = rng.random(len(kind))
    for kd, ky, c, p in zip(kind, key, cls, pick, strict=True):
        if kd == "failure":
            texts = FAILURE_TEXT.get(ky, FAILURE_TEXT["sudden"])
            out.append(f"Dépannage : {texts[int(p * len(texts))]}")
        elif kd == "replacement":
            out.append(
                {
                    "after_failure": "Remplacement après panne",
                    "end_of_life": "Remplacement fin de vie",
                    "psp": "Renouvellement programmé (PSP)",
                }[ky]
            )
        elif kd == "preventive":
            out.append(_VISIT_TEXT.get(c, "Visite préventive"))
        elif kd == "inspection":
            out.append("Contrôle réglementaire")
        elif ky == "detected":
            out.append("Anomalie détectée lors de la visite, réparation")
        else:
            out.append(_NOISE_TEXT[int(p * len(_NOISE_TEXT))])
    return out
