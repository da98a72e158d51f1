"""The decision matrix's arithmetic: weighted ranking of options, first-year ROI and payback time.

Plain values in, plain values out (no database): the models' summaries and the services both use it."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Ranked:
    name: str
    score: float                # Σ weight × score
    rank: int                   # 1 = best; equal scores share a rank
    cost: float | None
    gain: float | None          # expected gain per year
    roi_pct: float | None       # first-year return on investment: (gain − cost) / cost × 100
    payback_months: float | None


def roi(cost: float | None, annual_gain: float | None) -> tuple[float | None, float | None]:
    """(first-year ROI in %, payback time in months); None where it cannot be computed."""
    if cost is None or annual_gain is None:
        return None, None
    roi_pct = round((annual_gain - cost) / cost * 100, 1) if cost > 0 else None
    if cost == 0:
        payback = 0.0
    else:
        payback = round(cost / annual_gain * 12, 1) if annual_gain > 0 else None
    return roi_pct, payback


def ranking(criteria: list[dict], options: list[dict]) -> list[Ranked]:
    """Options sorted by weighted score, best first (competition ranking: 1, 1, 3)."""
    weights = [float(c["weight"]) for c in criteria]
    scored = []
    for option in options:
        score = round(sum(w * float(s) for w, s in zip(weights, option.get("scores", []))), 4)
        scored.append((option, score))
    scored.sort(key=lambda pair: -pair[1])
    result, previous, rank = [], None, 0
    for position, (option, score) in enumerate(scored, start=1):
        if score != previous:
            rank, previous = position, score
        cost, gain = option.get("cost"), option.get("gain")
        roi_pct, payback = roi(cost, gain)
        result.append(Ranked(option["name"], score, rank, cost, gain, roi_pct, payback))
    return result
