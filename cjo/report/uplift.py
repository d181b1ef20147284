"""The holdout uplift report (``cjo report``): did sending an offer change what subscribers do?

For every trigger and offer code the engine decided, a row counts

- ``sent`` / ``holdout``: distinct offers decided SENT and HOLDOUT (``Decision`` records on
  ``cjo.decisions``; a re-published decision with the same ``offer_id`` counts once). A holdout
  decision is a subscriber who qualified for the offer and was deliberately not sent it;
- ``treated`` / ``held``: ``Outcome`` records (``cjo.outcomes``, one per SENT or HOLDOUT offer
  once its response window closed; duplicates by ``offer_id`` count once) of group TREATED and
  HOLDOUT. Offers whose window is still open are in ``sent``/``holdout`` but not here;
- ``responded``: treated outcomes with a positive response (CLICKED or ACCEPTED in the window);
- ``conv_t`` / ``conv_h``: outcomes with ``converted`` true, per group. Conversion (the offer's
  conversion event was seen) is observable whether or not the offer was sent, which is what makes
  the comparison fair;
- ``take-up``: ``conv_t / treated`` and ``conv_h / held``, and ``uplift`` = take-up treated minus
  take-up holdout: the share of treated subscribers who converted *because* of the offer;
- a 95% confidence interval for that difference of two independent proportions by Newcombe's
  hybrid score method (Newcombe 1998, method 10: built from the two Wilson score intervals, no
  continuity correction). Unlike the Wald interval it stays within [-1, 1] and behaves with small
  counts and zero cells (0/n or n/n);
- a verdict: ``too small`` when either group has fewer than ``min_group`` (default 30) closed
  outcomes (the interval is shown but says little), else ``uplift`` when the interval lies above
  0, ``negative`` when below 0, ``no evidence`` when it contains 0;
- ``responses``: ``OfferResponse`` records (``cjo.offers.responses``) counted by status
  (DELIVERED, CLICKED, ...), joined to a row by ``offer_id`` through the decisions and outcomes;
  duplicates by ``event_id`` count once, responses to unknown offers are left out.

Each trigger also gets a total row (offer code ``(all)``): its offer codes' counts summed and the
rates and interval recomputed from the sums. Rows are sorted by trigger id, then offer code,
the total row after its trigger's offer codes.

Everything here is pure: lists of decoded records (dicts, as :func:`cjo.codec.decode` returns
them) in, :class:`Row` values and text out.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

Z95 = 1.959963984540054  # the 97.5th percentile of the standard normal distribution
MIN_GROUP = 30
TOTAL = "(all)"
NO_CODE = "-"
POSITIVE = frozenset({"CLICKED", "ACCEPTED"})
STATUSES = ("SENT", "DELIVERED", "FAILED", "OPENED", "CLICKED", "ACCEPTED", "DECLINED")


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion ``successes / n`` (no continuity correction)."""
    if n <= 0:
        raise ValueError("wilson: n must be > 0")
    if not 0 <= successes <= n:
        raise ValueError(f"wilson: successes {successes} not in 0..{n}")
    p = successes / n
    z2 = z * z
    centre = 2 * n * p + z2
    spread = z * math.sqrt(z2 + 4 * n * p * (1 - p))
    denominator = 2 * (n + z2)
    low = 0.0 if successes == 0 else (centre - spread) / denominator
    high = 1.0 if successes == n else (centre + spread) / denominator
    return low, high


def newcombe(x1: int, n1: int, x2: int, n2: int, z: float = Z95) -> tuple[float, float, float]:
    """``(p1 - p2, low, high)``: Newcombe's hybrid score interval (method 10) for the difference
    of two independent proportions ``x1/n1 - x2/n2``.

    With Wilson intervals ``(l1, u1)`` and ``(l2, u2)`` of the two proportions::

        low  = d - sqrt((p1 - l1)^2 + (u2 - p2)^2)
        high = d + sqrt((u1 - p1)^2 + (p2 - l2)^2)
    """
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson(x1, n1, z)
    l2, u2 = wilson(x2, n2, z)
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return d, low, high


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the report; see the module docstring for every figure."""

    trigger_id: str
    offer_code: str
    sent: int = 0
    holdout: int = 0
    treated: int = 0
    held: int = 0
    responded: int = 0
    converted_treated: int = 0
    converted_holdout: int = 0
    responses: Mapping[str, int] = field(default_factory=dict)
    min_group: int = MIN_GROUP

    @property
    def is_total(self) -> bool:
        return self.offer_code == TOTAL

    @property
    def rate_treated(self) -> float | None:
        return self.converted_treated / self.treated if self.treated else None

    @property
    def rate_holdout(self) -> float | None:
        return self.converted_holdout / self.held if self.held else None

    @property
    def response_rate(self) -> float | None:
        return self.responded / self.treated if self.treated else None

    @property
    def interval(self) -> tuple[float, float, float] | None:
        """``(uplift, low, high)``, or None while a group has no closed outcome."""
        if not self.treated or not self.held:
            return None
        return newcombe(self.converted_treated, self.treated, self.converted_holdout, self.held)

    @property
    def uplift(self) -> float | None:
        interval = self.interval
        return None if interval is None else interval[0]

    @property
    def too_small(self) -> bool:
        """Either group has fewer closed outcomes than ``min_group``: nothing to conclude."""
        return self.treated < self.min_group or self.held < self.min_group

    @property
    def verdict(self) -> str:
        interval = self.interval
        if self.too_small or interval is None:
            return "too small"
        _, low, high = interval
        if low > 0:
            return "uplift"
        if high < 0:
            return "negative"
        return "no evidence"


@dataclass
class _Tally:
    sent: set[str] = field(default_factory=set)
    holdout: set[str] = field(default_factory=set)
    outcomes: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    responses: Counter[str] = field(default_factory=Counter)


def _code(record: Mapping[str, Any]) -> str:
    return str(record.get("offer_code") or NO_CODE)


def aggregate(
    decisions: Iterable[Mapping[str, Any]],
    outcomes: Iterable[Mapping[str, Any]] = (),
    responses: Iterable[Mapping[str, Any]] = (),
    min_group: int = MIN_GROUP,
) -> list[Row]:
    """The report's rows (see the module docstring): per (trigger, offer code), then a total row
    per trigger. Decisions other than SENT and HOLDOUT are ignored."""
    tallies: dict[tuple[str, str], _Tally] = {}
    offer_key: dict[str, tuple[str, str]] = {}

    def tally(key: tuple[str, str]) -> _Tally:
        return tallies.setdefault(key, _Tally())

    for d in decisions:
        if d.get("outcome") not in ("SENT", "HOLDOUT"):
            continue
        key = (str(d["trigger_id"]), _code(d))
        offer_id = str(d["offer_id"])
        offer_key.setdefault(offer_id, key)
        group = tally(key)
        (group.sent if d["outcome"] == "SENT" else group.holdout).add(offer_id)
    for o in outcomes:
        key = (str(o["trigger_id"]), _code(o))
        offer_id = str(o["offer_id"])
        offer_key.setdefault(offer_id, key)
        tally(key).outcomes[offer_id] = o
    seen: set[str] = set()
    for r in responses:
        event_id = str(r.get("event_id", ""))
        if event_id and event_id in seen:
            continue
        seen.add(event_id)
        found = offer_key.get(str(r.get("offer_id")))
        if found is not None:
            tally(found).responses[str(r.get("status", "UNKNOWN"))] += 1

    rows: list[Row] = []
    for trigger in sorted({t for t, _ in tallies}):
        codes = sorted(c for t, c in tallies if t == trigger)
        mine = [_row(trigger, code, tallies[trigger, code], min_group) for code in codes]
        rows.extend(mine)
        rows.append(total(trigger, mine, min_group))
    return rows


def _row(trigger: str, code: str, t: _Tally, min_group: int) -> Row:
    treated = [o for o in t.outcomes.values() if o.get("group") == "TREATED"]
    held = [o for o in t.outcomes.values() if o.get("group") == "HOLDOUT"]
    return Row(
        trigger_id=trigger, offer_code=code, sent=len(t.sent), holdout=len(t.holdout),
        treated=len(treated), held=len(held),
        responded=sum(1 for o in treated if o.get("responded")),
        converted_treated=sum(1 for o in treated if o.get("converted")),
        converted_holdout=sum(1 for o in held if o.get("converted")),
        responses=dict(t.responses), min_group=min_group,
    )


def total(trigger: str, rows: Iterable[Row], min_group: int = MIN_GROUP) -> Row:
    """The total row of one trigger: counts summed, rates recomputed from the sums."""
    rows = list(rows)
    responses: Counter[str] = Counter()
    for row in rows:
        responses.update(row.responses)
    return Row(
        trigger_id=trigger, offer_code=TOTAL,
        sent=sum(r.sent for r in rows), holdout=sum(r.holdout for r in rows),
        treated=sum(r.treated for r in rows), held=sum(r.held for r in rows),
        responded=sum(r.responded for r in rows),
        converted_treated=sum(r.converted_treated for r in rows),
        converted_holdout=sum(r.converted_holdout for r in rows),
        responses=dict(responses), min_group=min_group,
    )


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _signed_pct(value: float) -> str:
    return f"{100 * value:+.1f}"


def _offer_cell(row: Row) -> str:
    return f"  {row.offer_code}"  # under its trigger's heading line


def _uplift_columns(row: Row) -> list[str]:
    interval = row.interval
    uplift = ci = "-"
    if interval is not None:
        uplift = _signed_pct(interval[0])
        ci = f"[{_signed_pct(interval[1])}, {_signed_pct(interval[2])}]"
    return [_offer_cell(row), str(row.sent), str(row.holdout), _pct(row.rate_treated),
            _pct(row.rate_holdout), uplift, ci, row.verdict]


def _count_columns(row: Row) -> list[str]:
    return [_offer_cell(row), str(row.treated), str(row.held), str(row.converted_treated),
            str(row.converted_holdout), str(row.responded)]


HEADERS = ["trigger / offer", "sent", "holdout", "take-up T", "take-up H", "uplift pp",
           "95% CI (pp)", "verdict"]
COUNT_HEADERS = ["trigger / offer", "closed T", "closed H", "conv T", "conv H", "responded"]
_LEFT = {0, 7}


def _table(headers: list[str], rows: list[Row], lines: list[list[str]],
           left: set[int]) -> list[str]:
    """A fixed-width table, each trigger's id on a line of its own above its offer rows (the
    table then fits 100 columns with long trigger ids and offer codes)."""
    widths = [max(len(cell) for cell in column) for column in zip(headers, *lines, strict=False)]

    def fmt(cells: list[str]) -> str:
        return "  ".join(
            cell.ljust(w) if i in left else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    out = [fmt(headers), fmt(["-" * w for w in widths])]
    trigger = None
    for row, line in zip(rows, lines, strict=True):
        if row.trigger_id != trigger:
            trigger = row.trigger_id
            out.append(trigger)
        out.append(fmt(line))
    return out


def render(rows: Iterable[Row]) -> str:
    """Fixed-width tables of the rows (uplift; closed offers; responses by status) and a legend,
every line at most 100 columns for ids and codes as long as the bundled catalogue's."""
    rows = list(rows)
    if not rows:
        return "no SENT or HOLDOUT decisions yet: nothing to report"
    min_group = rows[0].min_group
    out = _table(HEADERS, rows, [_uplift_columns(r) for r in rows], _LEFT)
    out += ["", "Closed offers (Outcome records)", "",
            *_table(COUNT_HEADERS, rows, [_count_columns(r) for r in rows], {0})]
    statuses = [s for s in STATUSES if any(r.responses.get(s) for r in rows)]
    statuses += sorted({s for r in rows for s in r.responses if s not in STATUSES})
    if statuses:
        lines = [[_offer_cell(r), *(str(r.responses.get(s, 0)) for s in statuses)]
                 for r in rows]
        out += ["", "Responses by status (OfferResponse records)", "",
                *_table(["trigger / offer", *statuses], rows, lines, {0})]
    out += [
        "",
        "sent/holdout: offers decided; closed T/H: treated/holdout offers whose response window",
        "closed; conv T/H: closed offers that converted; responded: treated with a CLICKED or",
        "ACCEPTED response; take-up = conv / closed per group; uplift = take-up T - take-up H, in",
        "percentage points (pp), with Newcombe's 95% interval; 'too small': a group has fewer",
        f"than {min_group} closed offers.",
    ]
    return "\n".join(out)
