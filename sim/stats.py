"""What a recorded log holds, for the moments of the default catalogue, read from the log itself.

    python -m sim.stats cjo/samples/sample.jsonl

"Reachable" is consent to at least one of push, SMS, e-mail (in the first profile).
"""

from __future__ import annotations

import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import orjson

from sim.gaming import PASS
from sim.malformed import REQUIRED
from sim.venues import Fix, Venue, venue_at

HOUR = 3_600_000
DAY = 24 * HOUR


def read(path: Path) -> tuple[list[dict[str, Any]], int]:
    """The good lines and the number of bad ones (not JSON, or not a known stream)."""
    good, bad = [], 0
    for raw in path.read_bytes().splitlines():
        try:
            line = orjson.loads(raw)
        except orjson.JSONDecodeError:
            bad += 1
            continue
        value, topic = line.get("value", {}), line.get("topic")
        when = value.get("updated_at" if topic == "subscribers" else "event_time")
        fields = REQUIRED.get(str(topic), ("-",))
        if not isinstance(when, int) or any(f not in value for f in fields) \
                or not str(value["imsi"]).isdigit():
            bad += 1
            continue
        good.append(line)
    return good, bad


def visits(fixes: list[tuple[int, float, float]]) -> list[tuple[Venue, int, int, bool]]:
    """Runs of fixes inside one venue: (venue, first inside, last inside, a fix outside after)."""
    out: list[tuple[Venue, int, int, bool]] = []
    current: tuple[Venue, int, int] | None = None
    for when, lat, lon in sorted(fixes):
        venue = venue_at(lat, lon)
        if current is not None and venue is current[0]:
            current = (current[0], current[1], when)
            continue
        if current is not None:
            out.append((*current, True))
        current = (venue, when, when) if venue is not None else None
    if current is not None:
        out.append((*current, False))
    return out


@dataclass
class Seen:
    """What the lines say, per subscriber."""

    first: dict[str, dict[str, Any]] = field(default_factory=dict)  # the first profile
    trials: dict[str, set[tuple[int, str]]] = field(default_factory=lambda: defaultdict(set))
    pass_seen: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    last_status: dict[tuple[str, int, str], str] = field(default_factory=dict)
    fixes: dict[str, list[Fix]] = field(default_factory=lambda: defaultdict(list))
    tacs: dict[str, list[tuple[int, str]]] = field(default_factory=lambda: defaultdict(list))
    drops: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    games: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    bundle: dict[str, list[tuple[int, float]]] = field(default_factory=lambda: defaultdict(list))
    balance: dict[str, list[tuple[int, float]]] = field(default_factory=lambda: defaultdict(list))
    per_stream: Counter[str] = field(default_factory=Counter)

    def profile(self, imsi: str, v: dict[str, Any]) -> None:
        self.first.setdefault(imsi, v)
        for t in v["trials"]:
            key = (t["expires_at"], t["product_id"])
            if key not in self.trials[imsi] and t["product_id"] == PASS:
                self.pass_seen[imsi].append(v["updated_at"])  # a new gaming pass
            self.trials[imsi].add(key)
            self.last_status[imsi, *key] = t["status"]

    def event(self, topic: str, imsi: str, v: dict[str, Any]) -> None:
        when = v["event_time"]
        if v.get("lat") is not None:
            self.fixes[imsi].append((when, v["lat"], v["lon"]))
        if v.get("imeisv"):
            self.tacs[imsi].append((when, v["imeisv"][:8]))
        if topic == "usage" and v["dropped"]:
            self.drops[imsi].append(when)
        if topic == "usage" and v["app_category"] == "GAMING":
            self.games[imsi].append(when)
        if v.get("bundle_total_octets"):
            used = 1.0 - v["bundle_remaining_octets"] / v["bundle_total_octets"]
            self.bundle[imsi].append((when, used))
        if v.get("balance") is not None:
            self.balance[imsi].append((when, v["balance"]))


def summarise(lines: list[dict[str, Any]], bad: int) -> dict[str, Any]:
    seen = Seen()
    for line in lines:
        seen.per_stream[line["topic"]] += 1
        if line["topic"] == "subscribers":
            seen.profile(line["key"], line["value"])
        else:
            seen.event(line["topic"], line["key"], line["value"])
    return _report(seen, lines, bad)


def _report(seen: Seen, lines: list[dict[str, Any]], bad: int) -> dict[str, Any]:
    first, per_stream, last_status = seen.first, seen.per_stream, seen.last_status
    start = min(p["updated_at"] for p in first.values())
    end = max(line["value"].get("event_time", 0) for line in lines)

    def consent(imsi: str, channel: str) -> bool:
        return bool(first[imsi]["consent"][channel])

    def reachable(imsi: str) -> bool:
        return any(consent(imsi, c) for c in ("push", "sms", "email"))

    def crossing(series: list[tuple[int, float]], up: bool, bound: float) -> bool:
        xs = [x for _, x in sorted(series)]
        return any((a < bound <= b) if up else (a >= bound > b) for a, b in pairwise(xs))

    def split(imsis: list[str]) -> str:
        n = sum(map(reachable, imsis))
        return f"{len(imsis)} subscribers ({n} reachable)"

    all_visits = [(imsi, *v) for imsi, f in sorted(seen.fixes.items()) for v in visits(f)]
    young = ("UNDER_18", "A18_24")
    mall = [v for v in all_visits if v[1].kind == "mall"]
    stadium = [v for v in all_visits if v[1].kind == "stadium"]
    match_days = sorted({(v[1].venue_id, _day(v[2])) for v in stadium})
    in_hour = [i for i, ts in sorted(seen.drops.items())
               if any(sum(t <= u < t + HOUR for u in ts) >= 3 for t in ts)]
    today = start // DAY
    gamers = [i for i, ts in sorted(seen.pass_seen.items())
              if len(ts) >= 2 and any(t > ts[1] for t in seen.games[i])]
    expired = [k for k, status in last_status.items() if status == "ACTIVE" and k[1] <= end]
    return {
        "lines": sum(per_stream.values()) + bad,
        "per stream": dict(sorted(per_stream.items())),
        "bad lines": bad,
        "mall visits": f"{len(mall)} by {len({v[0] for v in mall})} subscribers: "
        + ", ".join(f"{k} {n}" for k, n in sorted(Counter(v[1].venue_id for v in mall).items())),
        "mall visitors young": sum(first[i].get("age_band") in young for i in {v[0] for v in mall}),
        "mall visits with location consent": sum(consent(v[0], "location") for v in mall),
        "stadium visits": f"{len(stadium)}: "
        + ", ".join(f"{k} {n}" for k, n in sorted(Counter(v[1].venue_id for v in stadium).items())),
        "stadium visits with location consent": sum(consent(v[0], "location") for v in stadium),
        "stadium visits with a fix outside after": sum(v[4] for v in stadium),
        "match days": ", ".join(f"{venue} {day}" for venue, day in match_days),
        "visits": [
            f"{v[0]} {v[1].venue_id} {_time(v[2])}-{_time(v[3])} "
            f"{first[v[0]].get('age_band')} location={consent(v[0], 'location')}"
            for v in all_visits
        ],
        "two gaming passes then GAMING": split(gamers),
        "bundle crossing 80% used": split([i for i, s in sorted(seen.bundle.items())
                                           if crossing(s, True, 0.8)]),
        "balance falling below 2.0": split([i for i, s in sorted(seen.balance.items())
                                            if crossing(s, False, 2.0)]),
        "top-ups": len([i for i, s in seen.balance.items()
                        if any(b > a for a, b in pairwise(x for _, x in sorted(s)))]),
        "device changes": split(
            [i for i, s in sorted(seen.tacs.items()) if len({t for _, t in s}) > 1]),
        "3+ dropped within an hour": split(in_hour),
        "POSTPAID contract ending within 60 days": split(
            [i for i, p in sorted(first.items()) if p["payment_type"] == "POSTPAID"
             and today <= p.get("contract_end", -1) <= today + 60]),
        "trials expiring ACTIVE in the log": f"{len(expired)} "
        f"({sum(reachable(k[0]) for k in expired)} reachable)",
        "trials CONVERTED": sum(s == "CONVERTED" for s in last_status.values()),
        "trials CANCELLED": sum(s == "CANCELLED" for s in last_status.values()),
    }


def _day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%a %d")


def _time(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%a %H:%M")


def main(argv: list[str]) -> int:
    lines, bad = read(Path(argv[0]))
    for key, value in summarise(lines, bad).items():
        if isinstance(value, list):
            print(f"{key}:")
            for item in value:
                print(f"  {item}")
        else:
            print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
