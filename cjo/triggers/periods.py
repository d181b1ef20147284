"""The periods a threshold fires at most once in, by name: ``d-2026-01-02``, ``w-2026-W01``,
``m-2026-01``, ``b-<bundle_id>-<total>``. Names of one kind sort in time order (the usage sum
tells a late record of a period already left by it)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cjo.triggers.timefmt import utc


def period_key(period: str, at: int, bundle: Mapping[str, Any] | None) -> str:
    when = utc(at)
    if period == "day":
        return f"d-{when:%Y-%m-%d}"
    if period == "week":
        year, week, _ = when.isocalendar()
        return f"w-{year}-W{week:02d}"
    if period == "month":
        return f"m-{when:%Y-%m}"
    bundle = bundle or {}
    return f"b-{bundle.get('id')}-{bundle.get('total')}"
