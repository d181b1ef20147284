"""Customer-facing text is true: every offer the bundled catalogue makes on the demo's sample log
(cjo/samples/sample.jsonl, through the offline runner) is read back against its template, and each
placeholder's value is checked against the records it speaks of: the counts, countries, amounts,
dates and venues the customer is told about."""

from __future__ import annotations

import re
import string
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from cjo.catalogue.catalogue import Catalogue
from cjo.catalogue.model import OfferDef, Trigger
from cjo.catalogue.source import parse
from cjo.catalogue.validate import (
    DEFAULT_FILES,
    DEFAULTS_DIR,
    default_catalogue,
    load_catalogue,
)
from cjo.codec import LogRecord
from cjo.engine.offline import read_log, run_offline
from cjo.errors import CatalogueRejected
from cjo.offers.countries import country_name
from cjo.triggers.geo import inside
from cjo.triggers.kinds.usage import format_size
from cjo.triggers.timefmt import DAY_MS, format_duration, format_minute

SAMPLE = Path(__file__).resolve().parents[2] / "cjo" / "samples" / "sample.jsonl"


class Told:
    """One offer as sent, with the subscriber's records up to its moment."""

    def __init__(self, offer: dict[str, Any], trigger: Trigger, spec: OfferDef,
                 history: list[LogRecord], catalogue: Catalogue) -> None:
        self.offer, self.trigger, self.spec, self.catalogue = offer, trigger, spec, catalogue
        self.at = int(offer["trigger_time"])
        self.history = [r for r in history if r.event_time <= self.at]

    def record(self) -> dict[str, Any]:
        """The record that revealed the moment."""
        [found] = [r.value for r in self.history
                   if r.value.get("event_id") == self.offer["trigger_event_id"]]
        return found

    def latest(self, stream: str) -> dict[str, Any]:
        return [r.value for r in self.history if r.stream == stream][-1]

    def within(self, stream: str, window: int) -> list[dict[str, Any]]:
        return [r.value for r in self.history
                if r.stream == stream and self.at - window <= r.event_time]


def _profile_trials(told: Told, product: str, window: int) -> int:
    """Trials of ``product`` that a profile of the window showed for the first time."""
    seen: set[tuple[str, int]] = set()
    started = 0
    for r in told.history:
        if r.stream != "subscribers":
            continue
        for trial in r.value.get("trials") or ():
            key = (trial["product_id"], trial["expires_at"])
            if key not in seen:
                seen.add(key)
                started += trial["product_id"] == product and told.at - window <= r.event_time
    return started


def _left(told: Told) -> str:
    """The MCC of the network she was on before the moment's record: the newest earlier record
    naming another country's network than the record's (home, or the trip's last country)."""
    now = told.record()
    mcc = now["serving_plmn"][:3]
    before = [r for r in told.history if r.event_time < now["event_time"]
              and (r.value.get("serving_plmn") or mcc)[:3] != mcc]
    return str(max(before, key=lambda r: r.event_time).value["serving_plmn"][:3])


def _value(told: Told) -> str:
    params: Any = told.trigger.params
    if params.measure == "balance":
        return f"{told.record()['balance']:.2f}"
    if params.measure == "usage_bytes":
        return format_size(_used_today(told, params.where["app_category"]))
    assert params.measure == "bundle_used_pct"
    return f"{_used_pct(told.record()):.0f}"


def _used_today(told: Told, category: str) -> int:
    """Her bytes of ``category`` on the UTC day of the moment, up to its record."""
    day = told.at // DAY_MS
    used = [r.value["bytes_uplink"] + r.value["bytes_downlink"] for r in told.history
            if r.stream == "usage" and r.event_time // DAY_MS == day
            and r.value["app_category"] == category]
    assert sum(used[:-1]) < 2 * 10**9 <= sum(used)  # the moment's record crossed 2 GB
    return sum(used)


def _used_pct(record: dict[str, Any]) -> float:
    total = record["bundle_total_octets"]
    return 100 * (total - record["bundle_remaining_octets"]) / total


def _sequence_step(told: Told, index: int) -> int:
    """How many facts of step ``index`` happened in the window before the moment."""
    params: Any = told.trigger.params
    step = params.steps[index]
    if step.event == "trial_started":
        return _profile_trials(told, step.where["product_id"], params.within)
    raise AssertionError(f"no fact counter for a step on {step.event}")


def _count(told: Told) -> int:
    """A count trigger's ``$count``: its matching records in the window before the moment; a
    sequence's (as its template uses it): the facts of its first step."""
    params: Any = told.trigger.params
    if told.trigger.kind == "sequence":
        return _sequence_step(told, 0)
    assert params.match.event == "usage" and params.match.where == {"dropped": True}
    return sum(1 for r in told.within("usage", params.within) if r["dropped"])


def _venue(told: Told) -> str:
    """The venue she is in (entering: at the moment; leaving: just before it, not at it)."""
    params: Any = told.trigger.params
    places = [r.value for r in told.history
              if r.stream == "location" and r.value["lat"] is not None]
    inside_now = [v for v in told.catalogue.venues.values()
                  if inside(v, places[-1]["lat"], places[-1]["lon"])]
    if params.on == "enter":
        [venue] = inside_now
        return venue.name
    assert not inside_now
    [venue] = [v for v in told.catalogue.venues.values()
               if inside(v, places[-2]["lat"], places[-2]["lon"])]
    return venue.name


def _trial_expiry(told: Told) -> dict[str, Any]:
    [trial] = [t for t in told.latest("subscribers")["trials"] if t["expires_at"] == told.at]
    return dict(trial)


#: What each placeholder must say, worked out from the records, not from the engine.
TRUTH: dict[str, Callable[[Told], Any]] = {
    "offer_code": lambda t: t.offer["offer_code"],
    "offer_value": lambda t: f"{t.spec.value:.2f}",
    "valid_days": lambda t: t.spec.validity // DAY_MS,
    "valid_until": lambda t: datetime.fromtimestamp(t.offer["valid_until"] / 1000, UTC)
    .strftime("%Y-%m-%d"),
    # roaming: the country of the network she attached to, and of the one she left
    "country": lambda t: country_name(t.record()["serving_plmn"][:3]),
    "previous_country": lambda t: country_name(_left(t)),
    # thresholds: the measure at the record that crossed the bound
    "value": _value,
    "currency": lambda t: t.record()["currency"],
    "app_category": lambda t: t.record()["app_category"],
    "app_id": lambda t: t.record()["app_id"],
    # trials and contracts: from her profile
    "product_id": lambda t: _trial_expiry(t)["product_id"],
    "expires_at": lambda t: format_minute(_trial_expiry(t)["expires_at"]),
    "contract_end": lambda t: datetime.fromtimestamp(
        t.latest("subscribers")["contract_end"] * 86_400, UTC).strftime("%Y-%m-%d"),
    "days_left": lambda t: t.latest("subscribers")["contract_end"] - t.at // DAY_MS,
    # sequences and counts: what happened in the window before the moment
    "step1_count": lambda t: _sequence_step(t, 0),
    "window_days": lambda t: t.trigger.params.within // DAY_MS,  # type: ignore[union-attr]
    "count": _count,
    "window": lambda t: format_duration(t.trigger.params.within),  # type: ignore[union-attr]
    # geofences: where she is
    "venue": _venue,
}


def _reader(template: str) -> re.Pattern[str]:
    """A pattern reading a rendered message back into its placeholders' values."""
    parts, named = [], set()
    last = 0
    for match in string.Template.pattern.finditer(template):
        parts.append(re.escape(template[last:match.start()]))
        last = match.end()
        name = match.group("named") or match.group("braced")
        if name is None:
            parts.append(re.escape("$"))
        elif name in named:
            parts.append(f"(?P={name})")
        else:
            named.add(name)
            parts.append(f"(?P<{name}>.+?)")
    parts.append(re.escape(template[last:]))
    return re.compile("".join(parts), re.DOTALL)


def _unleashed() -> Catalogue:
    """The bundled catalogue with every trigger on and nothing held back but a missing consent
    (no caps, quiet hours, dedupe, holdout, eligibility, cooldown, budget; every channel; a
    month's max delay): as many of its templates as the sample can render, rendered."""
    files = {name: parse(name, (DEFAULTS_DIR / name).read_text(encoding="utf-8")).value
             for name in DEFAULT_FILES}
    raw = files["triggers.yaml"]
    raw["policy"] = {"caps": [{"count": 64, "within": "1h"}], "quiet_hours": None,
                     "dedupe": 0, "holdout_pct": 0}
    for trigger in raw["triggers"]:
        trigger.update(enabled=True, max_delay="30d", cooldown=0)
        trigger.pop("eligibility", None)
        for offer in trigger["offers"]:
            offer["channels"] = ["push", "sms", "email"]
            offer.pop("budget_per_day", None)
    return load_catalogue([(name, yaml.safe_dump(value, allow_unicode=True))
                           for name, value in files.items()])


@cache
def _told(everything: bool) -> tuple[Told, ...]:
    catalogue = _unleashed() if everything else default_catalogue()
    records, _bad = read_log(SAMPLE)  # the sample has a few bad lines on purpose
    by_imsi: dict[str, list[LogRecord]] = defaultdict(list)
    for record in sorted(records, key=lambda r: r.event_time):
        by_imsi[record.value["imsi"]].append(record)
    triggers = {t.id: t for t in catalogue.triggers}
    told = []
    for offer in run_offline(records, catalogue).offers:
        trigger = triggers[offer["trigger_id"]]
        [spec] = [o for o in trigger.offers if o.code == offer["offer_code"]]
        match = _reader(spec.templates[offer["language"]]).fullmatch(offer["message"])
        assert match is not None, f"{offer['message']!r} is not its template rendered"
        told.append(Told({**offer, "_values": match.groupdict()}, trigger, spec,
                         by_imsi[offer["imsi"]], catalogue))
    return tuple(told)


@pytest.mark.parametrize("everything", [False, True], ids=["bundled", "unleashed"])
def test_every_placeholder_of_every_offer_on_the_sample_says_what_happened(
        everything: bool) -> None:
    told = _told(everything)
    checked: set[str] = set()
    for one in told:
        for name, shown in one.offer["_values"].items():
            assert name in TRUTH, f"no check for ${name} ({one.trigger.id}): add one to TRUTH"
            truth = TRUTH[name](one)
            assert shown == str(truth), (
                f"{one.trigger.id} told {one.offer['imsi'][-4:]} ${name}={shown!r}, "
                f"the records say {truth!r}: {one.offer['message']!r}")
        checked.add(one.trigger.id)
    # as bundled, the sample sends these (a change of the sample that loses one is noticed)
    assert {"roaming_welcome", "trial_expiry_promo", "bundle_topup", "low_balance",
            "gaming_bundle", "contract_renewal", "dropped_sessions_apology",
            "stadium_arrival"} <= checked
    if everything:  # every template but bill_shock's (the sample has no bill-shock moment)
        assert checked == {t.id for t in told[0].catalogue.triggers} - {"bill_shock"}


def test_the_gaming_bundle_tells_the_day_passes_she_took() -> None:
    gaming = [t for t in _told(False) if t.trigger.id == "gaming_bundle"]
    assert gaming
    for one in gaming:
        passes = _profile_trials(one, "gaming_pass_1d", 14 * DAY_MS)
        assert f"You took {passes} day passes in 14 days." in one.offer["message"]


def test_a_sequence_template_with_count_is_refused_naming_the_step_counts() -> None:
    source = ("triggers:\n"
              "  - id: t1\n"
              "    kind: sequence\n"
              "    params: {within: 14d, steps: [{event: topup, count: 2}, {event: usage}]}\n"
              "    offers:\n"
              "      - code: A\n"
              "        templates: {en: \"$count top-ups, then $step2_count session\"}\n")
    with pytest.raises(CatalogueRejected) as caught:
        load_catalogue([("s.yaml", source)])
    [problem] = caught.value.problems
    assert (problem.line, problem.field) == (7, "triggers[0] (t1).offers[0].templates.en")
    assert problem.reason.startswith("unknown placeholder $count: a sequence has one count per "
                                     "step: write $step1_count")
    fixed = source.replace("$count top-ups", "$step1_count top-ups")
    [sequence] = load_catalogue([("s.yaml", fixed)]).triggers
    assert sequence.id == "t1"
