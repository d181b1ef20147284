"""A population that lands abroad once a day, for the closed-loop learning test: half of it in
segment ``youth`` (for whom the 5 GB pass is much better, see ``sim.responder``)."""

from __future__ import annotations

from typing import Any

from tests.scenarios.default_triggers import DAY, GB, HOUR, MIN, T0, imsi, line, loc

CATALOGUE = """\
policy:
  caps: [{count: 60, within: 1d}]
  quiet_hours: null
  dedupe: 1m
  holdout_pct: 10
  response_window: 6h
triggers:
  - id: roaming_welcome
    kind: transition
    params: {attribute: network, from: home, to: foreign}
    max_delay: 1h
    offers:
      - code: TRAVEL_PASS_1GB_7D
        value: 5
        channels: [sms]
        conversion: {event: bundle_purchased, where: {bundle_id: TRAVEL_PASS_1GB_7D}}
        templates: {en: "Welcome to $country! 1 GB for 7 days: reply YES."}
      - code: TRAVEL_PASS_5GB_7D
        value: 5
        channels: [sms]
        conversion: {event: bundle_purchased, where: {bundle_id: TRAVEL_PASS_5GB_7D}}
        templates: {en: "Welcome to $country! 5 GB for 7 days: reply YES."}
"""


def segment(n: int) -> str:
    return "youth" if n % 2 else "business"


def profiles(subscribers: int) -> list[dict[str, Any]]:
    return [line("subscribers", n, {
        "msisdn": f"4477{n:07d}", "payment_type": "POSTPAID", "plan_id": "p1",
        "age_band": "A18_24" if segment(n) == "youth" else "A35_44", "language": "en",
        "timezone": "Europe/London", "home_plmn": "23415", "segment": segment(n),
        "consent": {"sms": True}, "updated_at": T0 - DAY}) for n in range(subscribers)]


def arrivals(subscribers: int, day: int) -> list[dict[str, Any]]:
    """Everyone at home in the morning, abroad by noon (a roaming welcome each); one in six buys
    a travel pass on her own, offer or not (what the holdout group's conversions are)."""
    return _sorted([x for n in range(subscribers) for x in (
        loc(n, _start(n, day) - 2 * HOUR), loc(n, _start(n, day) + 2 * HOUR, "20801"))] + [
        buys(n, _start(n, day) + 3 * HOUR) for n in range(subscribers) if (n + day) % 6 == 0])


def buys(n: int, at: int) -> dict[str, Any]:
    pass_ = "TRAVEL_PASS_5GB_7D" if segment(n) == "youth" else "TRAVEL_PASS_1GB_7D"
    return line("charging", n, {"event_id": f"buy-{n}-{at}", "event_time": at,
                                "session_id": f"buy-{n}", "request_type": "EVENT",
                                "home_plmn": "23415", "serving_plmn": "20801",
                                "bundle_id": pass_, "bundle_total_octets": GB,
                                "bundle_remaining_octets": GB})


def evenings(subscribers: int, day: int) -> list[dict[str, Any]]:
    """Everyone home again at night, her home bundle in use again: event time passes the day's
    response windows, and tomorrow's travel pass is a purchase again."""
    return _sorted([x for n in range(subscribers) for x in (
        loc(n, _start(n, day) + 10 * HOUR),
        line("charging", n, {"event_id": f"home-{n}-{day}",
                             "event_time": _start(n, day) + 11 * HOUR,
                             "session_id": f"home-{n}", "request_type": "UPDATE",
                             "home_plmn": "23415", "serving_plmn": "23415",
                             "bundle_id": "BASE_10GB", "bundle_total_octets": 10 * GB,
                             "bundle_remaining_octets": (100 - day) * GB // 10}))])


def _start(n: int, day: int) -> int:
    return T0 + day * DAY + (n * 7919) % 60 * MIN


def _sorted(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(lines, key=lambda x: int(x["value"]["event_time"]))


__all__ = ["CATALOGUE", "arrivals", "evenings", "imsi", "profiles", "segment"]
