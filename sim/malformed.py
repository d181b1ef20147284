"""Bad lines, as a real feed has them: each is a copy of a good line, broken in one way."""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from cjo.stream_registry import STREAMS

KINDS = ("truncated", "unknown_topic", "missing_field", "wrong_type", "bad_imsi")
UNKNOWN_TOPICS = tuple(t for t in ("voice", "billing", "cdr", "events") if t not in STREAMS)
# Fields without a default, per stream: leaving one out makes the record unusable.
REQUIRED: dict[str, tuple[str, ...]] = {
    "charging": ("event_time", "imsi", "session_id", "serving_plmn"),
    "location": ("event_time", "imsi", "event_type", "serving_plmn"),
    "usage": ("event_time", "imsi", "app_id", "bytes_downlink"),
    "subscribers": ("imsi", "msisdn", "plan_id", "updated_at"),
    "responses": ("event_time", "imsi", "offer_id", "status"),
}
FALLBACK: dict[str, Any] = {
    "topic": "location",
    "key": "234150000000001",
    "value": {
        "event_id": "l-234150000000001-0",
        "event_time": 1_767_225_600_000,
        "imsi": "234150000000001",
        "event_type": "ATTACH",
        "home_plmn": "23415",
        "serving_plmn": "23415",
    },
}
FIRST_THREE_EVERY = 90  # the first three bad lines come early: a log of 300 lines has them
THEN_EVERY = 2_000


def with_bad_lines(
    good: Iterable[dict[str, Any]], rng: random.Random, count: int | None, estimate: int
) -> Iterator[dict[str, Any]]:
    """Interleave bad lines: ``count`` of them spread over ``estimate`` lines, or by default about
    one per 2,000 lines and at least three once the log reaches 300 lines."""
    points = _spread(rng, count, estimate) if count is not None else _default_points(rng)
    offset = rng.randrange(len(KINDS))
    lines = made = 0
    last = FALLBACK
    due = next(points, None)
    for line in good:
        yield line
        lines, last = lines + 1, line
        while due is not None and lines >= due:
            yield bad_line(rng, KINDS[(offset + made) % len(KINDS)], last, made + 1)
            lines, made, due = lines + 1, made + 1, next(points, None)
    while count is not None and made < count:
        yield bad_line(rng, KINDS[(offset + made) % len(KINDS)], last, made + 1)
        made += 1


def _default_points(rng: random.Random) -> Iterator[int]:
    k = 1
    while True:
        if k <= 3:
            yield FIRST_THREE_EVERY * k - rng.randrange(30)
        else:
            yield THEN_EVERY * k - rng.randrange(THEN_EVERY // 2)
        k += 1


def _spread(rng: random.Random, count: int, estimate: int) -> Iterator[int]:
    step = max(1.0, estimate / (count + 1))
    jitter = max(1, int(step / 3))
    return iter(
        sorted(int(step * (i + 1)) + rng.randrange(-jitter, jitter + 1) for i in range(count))
    )


def bad_line(rng: random.Random, kind: str, template: dict[str, Any], n: int) -> dict[str, Any]:
    """``{"raw": text}``: the template line broken the way ``kind`` says."""
    value = dict(template["value"])
    if "event_id" in value:
        value["event_id"] = f"bad-{n}"
    line: dict[str, Any] = {"topic": template["topic"], "key": template["key"], "value": value}
    if kind == "truncated":
        text = orjson.dumps(line).decode()
        return {"raw": text[: rng.randrange(len(text) // 4, 3 * len(text) // 4)]}
    if kind == "unknown_topic":
        line["topic"] = rng.choice(UNKNOWN_TOPICS)
    elif kind == "missing_field":
        del value[rng.choice([f for f in REQUIRED[line["topic"]] if f in value])]
    elif kind == "wrong_type":
        name = "event_time" if "event_time" in value else "updated_at"
        when = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=value[name])
        value[name] = when.isoformat(timespec="milliseconds")
    else:
        imsi = str(value.get("imsi", template["key"]))
        bad = rng.choice((imsi[:7] + "X" + imsi[8:], imsi[:5] + "-" + imsi[5:], ""))
        line["key"] = value["imsi"] = bad
    return {"raw": orjson.dumps(line).decode()}
