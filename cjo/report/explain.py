"""`cjo explain IMSI`: why one subscriber got (or did not get) each offer, newest first.

Pure: the subscriber's decoded ``Decision`` records (and ``Outcome`` records, matched by
``offer_id``, and ``OfferResponse`` records for her opt-outs and opt-ins) in, text out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from cjo.report.why import why
from cjo.words import count

TOP_FEATURES = 6
_CLOSABLE = ("SENT", "HOLDOUT")
_CONSENT = ("OPTED_OUT", "OPTED_IN")


def utc(ms: int | None) -> str:
    """Epoch milliseconds -> ``2026-01-05 10:02:03 UTC`` (``-`` for None)."""
    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def top_features(
    features: Mapping[str, float], limit: int = TOP_FEATURES
) -> list[tuple[str, float]]:
    """The ``limit`` features of largest absolute value (ties by name)."""
    return sorted(features.items(), key=lambda kv: (-abs(kv[1]), kv[0]))[:limit]


def newest_first(decisions: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """By trigger (event) time, then publication time, newest first; a decision re-published
    with the same ``decision_id`` appears once."""
    unique: dict[str, Mapping[str, Any]] = {}
    for number, d in enumerate(decisions):
        unique.setdefault(str(d.get("decision_id") or number), d)
    return sorted(unique.values(),
                  key=lambda d: (d.get("trigger_time", 0), d.get("published_at", 0)),
                  reverse=True)


def _outcome_line(decision: Mapping[str, Any], outcome: Mapping[str, Any] | None) -> str | None:
    if decision.get("outcome") not in _CLOSABLE:
        return None
    if outcome is None:
        return "response window still open"
    group = str(outcome.get("group", "?")).lower()
    responded = "yes" if outcome.get("responded") else "no"
    converted = "yes" if outcome.get("converted") else "no"
    return (f"closed {utc(outcome.get('closed_at'))} ({group}): responded {responded}, "
            f"converted {converted}")


def render_decision(decision: Mapping[str, Any], outcome: Mapping[str, Any] | None = None) -> str:
    """One decision as a header line and indented ``label: value`` lines."""
    lines = [f"{utc(decision.get('trigger_time'))}  {decision.get('trigger_id', '?')}  "
             f"{decision.get('outcome', '?')}"]

    def add(label: str, value: str) -> None:
        lines.append(f"  {label:<12} {value}")

    reasons = decision.get("reasons") or []
    add("reasons", ", ".join(reasons) if reasons else "-")
    add("why", why(decision))
    if decision.get("reason"):
        add("purpose", str(decision["reason"]))  # the offer's reason (its trigger's, else)
    add("offer", f"{decision.get('offer_code') or '-'}  (offer id {decision.get('offer_id', '-')})")
    add("channel", str(decision.get("channel") or "-"))
    if decision.get("message"):
        add("text", f"[{decision.get('language') or '?'}] {decision['message']}")
    version = decision.get("model_version")
    add("score", f"{_number(decision.get('score'))}   propensity "
                 f"{_number(decision.get('propensity'))}   model "
                 f"{'-' if version is None else f'v{version}'}")
    features = top_features(decision.get("features") or {})
    if features:
        add("features", ", ".join(f"{name}={_number(value)}" for name, value in features))
    if decision.get("deferred_until") is not None:
        add("deferred to", utc(decision["deferred_until"]))
    if decision.get("published_at"):  # 0 in ``catalogue try``: nothing was published
        add("published", utc(decision["published_at"]))
    closed = _outcome_line(decision, outcome)
    if closed is not None:
        add("outcome", closed)
    return "\n".join(lines)


def consent_lines(responses: Iterable[Mapping[str, Any]]) -> list[str]:
    """Her opt-outs and explicit opt-ins (``OPTED_OUT``/``OPTED_IN`` responses), oldest first,
    one line each: when, channel, what, how, the offer answered."""
    changes = sorted((r for r in responses if r.get("status") in _CONSENT),
                     key=lambda r: (int(r.get("event_time") or 0), str(r.get("event_id"))))
    lines = []
    for r in changes:
        what = "opted out of" if r["status"] == "OPTED_OUT" else "opted in to"
        how = f" ({r['reason']})" if r.get("reason") else ""
        lines.append(f"  {utc(r.get('event_time'))}  {what} {str(r.get('channel')).lower()}"
                     f"{how}, answering offer id {r.get('offer_id', '-')}")
    return lines


def explain(
    imsi: str,
    decisions: Iterable[Mapping[str, Any]],
    outcomes: Iterable[Mapping[str, Any]] = (),
    last: int = 20,
    responses: Iterable[Mapping[str, Any]] = (),
) -> str:
    """The ``last`` newest decisions of subscriber ``imsi``, each with its outcome if closed,
    after her opt-outs and opt-ins (binding: ``cjo.state.consent``) if she has any."""
    consent = consent_lines(responses)
    head_consent = ([f"IMSI {imsi}: consent changes (oldest first, binding until an explicit "
                     "opt-in)", *consent]) if consent else []
    ordered = newest_first(decisions)
    if not ordered:
        return "\n".join([*head_consent, f"no decisions for IMSI {imsi}"])
    by_offer = {str(o["offer_id"]): o for o in outcomes}
    shown = ordered[:max(last, 0)]
    more = f", the {len(shown)} newest shown" if len(shown) < len(ordered) else ""
    head = f"IMSI {imsi}: {count(len(ordered), 'decision')}{more} (newest first, times in UTC)"
    blocks = [render_decision(d, by_offer.get(str(d.get("offer_id")))) for d in shown]
    return "\n\n".join([*(["\n".join(head_consent)] if head_consent else []), head, *blocks])
