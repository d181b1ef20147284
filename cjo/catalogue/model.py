"""The trigger catalogue as data: what a marketing team declares in YAML.

These pydantic models are the schema of a catalogue file (see ``cjo/catalogue/defaults/*.yaml`` and
docs/catalogue.md). They check types and ranges; cross references (venue ids, anchor
triggers, template placeholders) are checked by ``cjo.catalogue.validate``. Durations are strings
like ``90s``, ``30m``, ``48h``, ``7d`` (or integer milliseconds) and become milliseconds.
"""

from __future__ import annotations

import re
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from cjo.catalogue.where import (
    Test,
    WhereValue,
    compile_attribute_where,
    compile_where,
    where_value,
)

_DURATION = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$")
_TIME_OF_DAY = r"^([01]?[0-9]|2[0-3]):[0-5][0-9]$"
MAX_DURATION_DAYS = 36_500  # a century
_UNIT_MS = {"ms": 1, "s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}


def parse_duration(value: Any) -> int:
    """``'30m'`` -> 1_800_000; an int is taken as milliseconds; ``'-60d'`` is allowed (offsets).
    At most ``MAX_DURATION_DAYS`` either way: the engine adds durations to event times, and a
    time past year 9999 could not be published (every offer of the trigger would stop the
    worker)."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 30m, 48h or 7d, got a boolean")
    if isinstance(value, int):
        ms = value
    elif isinstance(value, str) and (match := _DURATION.match(value)):
        ms = int(float(match.group(1)) * _UNIT_MS[match.group(2)])
    else:
        raise ValueError(f"expected a duration such as 30m, 48h or 7d, got {value!r}")
    if abs(ms) > MAX_DURATION_DAYS * _UNIT_MS["d"]:
        raise ValueError(f"a duration is at most {MAX_DURATION_DAYS}d either way, got {value!r}")
    return ms


Duration = Annotated[int, BeforeValidator(parse_duration)]
Channel = Literal["push", "sms", "email"]
Consent = Literal["push", "sms", "email", "location"]
PaymentType = Literal["PREPAID", "POSTPAID", "HYBRID", "UNKNOWN"]
AgeBand = Literal["UNDER_18", "A18_24", "A25_34", "A35_44", "A45_54", "A55_64", "A65_PLUS",
                  "UNKNOWN"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Point(Strict):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class Venue(Strict):
    """A named place: a circle (``center`` + ``radius_m``) or a polygon of ``[lat, lon]`` points."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: str
    kind: str = Field("venue", description="a tag triggers can select venues by: mall, stadium")
    center: Point | None = None
    radius_m: float | None = Field(None, gt=0, le=50_000)
    polygon: list[tuple[float, float]] | None = Field(None, min_length=3)

    @model_validator(mode="after")
    def _one_shape(self) -> Venue:
        circle = self.center is not None and self.radius_m is not None
        if circle == (self.polygon is not None):
            raise ValueError("give either center and radius_m, or polygon (not both, not neither)")
        return self

    @cached_property
    def polygon_lats(self) -> tuple[float, float]:
        """The lowest and highest latitude of the polygon's points (worked out once: a position
        outside that band is outside the polygon); (0, 0) for a circle."""
        lats = [lat for lat, _ in self.polygon or [(0.0, 0.0)]]
        return min(lats), max(lats)


class Matcher(Strict):
    """An event or derived fact a count or sequence step matches (see cjo.triggers.facts).

    ``event`` is an input stream (charging, location, usage, subscribers, responses) or a derived
    fact (trial_started, topup); ``where`` compares record fields: a value (equal), a list (one
    of them) or a condition (``{gte: 10, lt: 20}``, ``{in: [...]}``, ``{not_in: [...]}``), see
    :mod:`cjo.catalogue.where`.
    """

    event: str
    where: dict[str, Annotated[WhereValue, BeforeValidator(where_value)]] = Field(
        default_factory=dict)

    @cached_property
    def tests(self) -> tuple[tuple[str, Test], ...]:
        """``where`` compiled once (a matcher belongs to an immutable catalogue)."""
        return compile_where(self.where)


class TransitionParams(Strict):
    """``network``: home/foreign class of the serving MCC; ``device``: the handset's TAC."""

    attribute: Literal["network", "device"]
    from_: str = Field("any", alias="from")
    to: str = "any"


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB)\s*$", re.IGNORECASE)
_SIZE_UNITS = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12}
USAGE = "usage_bytes"


def parse_size(value: Any) -> Any:
    """``'2GB'`` -> 2_000_000_000.0 (decimal units, as data is billed: 1 GB = 10^9 bytes);
    a number is taken as bytes; anything else is left for the type check to refuse."""
    if isinstance(value, str):
        match = _SIZE.match(value)
        if not match:
            raise ValueError(f"expected a size such as 500MB or 2GB, got {value!r}")
        return float(match.group(1)) * _SIZE_UNITS[match.group(2).lower()]
    return value


class ThresholdParams(Strict):
    """Crossing of ``below`` (from above) or ``above`` (from below), once per ``period``.

    ``usage_bytes``: the bytes (uplink + downlink) of her usage records matching ``where`` (an
    app, a category: ``{app_category: VIDEO}``) since the start of the ``period`` (UTC day, ISO
    week or calendar month); ``above`` only, and a size such as ``2GB`` may be given.
    """

    measure: Literal["bundle_used_pct", "bundle_remaining_pct", "balance", "bundle_pace_pct",
                     "usage_bytes"]
    below: float | None = None
    above: float | None = None
    period: Literal["day", "week", "month", "bundle"] = "month"
    min_cycle_elapsed: Duration = Field(3 * 86_400_000, ge=0,
                                        description="bundle_pace_pct: ignored before this")
    where: dict[str, Annotated[WhereValue, BeforeValidator(where_value)]] = Field(
        default_factory=dict, description="usage_bytes: the usage records counted")

    @field_validator("below", "above", mode="before")
    @classmethod
    def _size(cls, value: Any, info: ValidationInfo) -> Any:
        # a measure refused (misspelt) is not in ``info.data``: a size is then read as one rather
        # than refused again as "not a number" (a knock-on of the measure's own error)
        return parse_size(value) if info.data.get("measure", USAGE) == USAGE else value

    @model_validator(mode="after")
    def _one_bound(self) -> ThresholdParams:
        if (self.below is None) == (self.above is None):
            raise ValueError("give exactly one of below or above")
        if self.measure == USAGE:
            if self.below is not None:
                raise ValueError("usage_bytes only grows within a period: give above, not below")
            if self.period == "bundle":
                raise ValueError("usage_bytes is counted per day, week or month, not per bundle")
        elif self.where:
            raise ValueError("where selects usage records: only for measure usage_bytes")
        return self

    @cached_property
    def usage(self) -> Matcher:
        """The usage records ``usage_bytes`` adds up (``where`` compiled once)."""
        return Matcher(event="usage", where=self.where)


class GeofenceParams(Strict):
    """Entering (and staying ``dwell``) or leaving (after at least ``dwell``) a venue."""

    venues: list[str] = Field(default_factory=list, description="venue ids; or use venue_kind")
    venue_kind: str | None = None
    on: Literal["enter", "leave"] = "enter"
    dwell: Duration = Field(0, ge=0)

    @model_validator(mode="after")
    def _some_venue(self) -> GeofenceParams:
        if not self.venues and self.venue_kind is None:
            raise ValueError("give venues or venue_kind")
        return self


class DeadlineParams(Strict):
    """A timer at ``anchor`` + ``offset`` (negative: before).

    anchor ``trial_expiry``: each ACTIVE trial whose product matches ``products`` (globs); fires
    only if the trial is still ACTIVE then. ``contract_end``: fires if the end date is unchanged.
    ``moment``: ``offset`` after a moment of ``trigger``; ``unless: topup`` cancels it when the
    balance went up meanwhile. ``catch_up``: a due time already past when the anchor is first
    seen fires at once (contract ends in 30 days, the renewal window opened 30 days ago).
    """

    anchor: Literal["trial_expiry", "contract_end", "moment"]
    offset: Duration = 0
    products: list[str] = Field(default_factory=lambda: ["*"])
    trigger: str | None = None
    unless: Literal["topup"] | None = None
    catch_up: bool = False

    @model_validator(mode="after")
    def _moment_needs_trigger(self) -> DeadlineParams:
        if (self.anchor == "moment") != (self.trigger is not None):
            raise ValueError("trigger is required with anchor moment, and only with it")
        return self


class Step(Matcher):
    count: int = Field(1, ge=1, le=100)


class SequenceParams(Strict):
    """``steps`` in order (each ``count`` times), all within ``within``; fires on the last."""

    steps: list[Step] = Field(min_length=2)
    within: Duration = Field(gt=0)

    @cached_property
    def positions(self) -> tuple[Step, ...]:
        """The steps flattened, one per fact to match (a step of count 3 is three positions)."""
        return tuple(step for step in self.steps for _ in range(step.count))

    @cached_property
    def events(self) -> frozenset[str]:
        """The fact names some step matches (any other fact can be skipped at once)."""
        return frozenset(step.event for step in self.steps)


class CountParams(Strict):
    """``count`` occurrences of ``match`` within ``within``; then it re-arms."""

    match: Matcher
    count: int = Field(ge=2, le=1000)
    within: Duration = Field(gt=0)


class Eligibility(Strict):
    """Every listed condition must hold; an empty list means any. ``plan`` takes globs.

    ``where`` compares the profile's further attributes (``attributes`` of the profile, declared
    in the catalogue's ``attributes`` section) like a matcher's ``where`` compares record fields:
    ``{loyalty_tier: [GOLD, SILVER], tenure_months: {gte: 12}}``. A profile without the attribute
    is not eligible."""

    payment_type: list[PaymentType] = Field(default_factory=list)
    age_band: list[AgeBand] = Field(default_factory=list)
    plan: list[str] = Field(default_factory=list)
    segment: list[str] = Field(default_factory=list)
    consent: list[Consent] = Field(default_factory=list)
    where: dict[str, Annotated[WhereValue, BeforeValidator(where_value)]] = Field(
        default_factory=dict, description="profile attributes (declared in attributes)")

    @cached_property
    def attribute_tests(self) -> tuple[tuple[str, Test], ...]:
        """``where`` compiled once for the profile's attributes (text values)."""
        return compile_attribute_where(self.where)


class Bandit(Strict):
    """How the trigger's bandit learns (docs/decision-quality.md, "Learning that follows
    drift"): ``discount`` below 1 makes evidence fade by that factor per learnt response
    (discounted Thompson sampling); ``reset_on_drift`` watches each offer's acceptance rate
    with ADWIN (river.drift) and, on a change, makes every offer's preferences start again."""

    discount: float = Field(default=1.0, gt=0, le=1)
    reset_on_drift: bool = False


def _all_channels() -> list[Channel]:
    return ["push", "sms", "email"]


class OfferDef(Strict):
    code: str = Field(pattern=r"^[A-Z0-9_]+$")
    value: float = Field(1.0, ge=0)
    channels: list[Channel] = Field(default_factory=_all_channels, min_length=1)
    validity: Duration = Field(7 * 86_400_000, gt=0)
    reason: str = ""
    templates: dict[str, str] = Field(min_length=1)
    budget_per_day: int | None = Field(
        default=None, ge=1,
        description="at most this many SENT per UTC day, all workers together (budget_share)")
    conversion: Matcher | None = Field(
        default=None,
        description="the event that counts as taking the offer (holdout subscribers' too)")

    @model_validator(mode="after")
    def _english_fallback(self) -> OfferDef:
        if "en" not in self.templates:
            raise ValueError("templates need an 'en' entry (the fallback language)")
        return self


class TriggerBase(Strict):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    version: int = Field(1, ge=1)
    enabled: bool = True
    description: str = ""
    priority: int = Field(50, ge=0, le=100)
    max_delay: Duration = Field(3_600_000, gt=0)
    cooldown: Duration = Field(0, ge=0)
    once_per_instance: bool = True
    marketing: bool = Field(default=True, description="contact caps count and apply to marketing "
                            "triggers only (an apology's compensation is not marketing)")
    eligibility: Eligibility = Field(default_factory=Eligibility)
    offers: list[OfferDef] = Field(min_length=1)
    bandit: Bandit = Field(default_factory=Bandit)


class TransitionTrigger(TriggerBase):
    kind: Literal["transition"]
    params: TransitionParams


class ThresholdTrigger(TriggerBase):
    kind: Literal["threshold"]
    params: ThresholdParams


class GeofenceTrigger(TriggerBase):
    kind: Literal["geofence"]
    params: GeofenceParams


class DeadlineTrigger(TriggerBase):
    kind: Literal["deadline"]
    params: DeadlineParams


class SequenceTrigger(TriggerBase):
    kind: Literal["sequence"]
    params: SequenceParams


class CountTrigger(TriggerBase):
    kind: Literal["count"]
    params: CountParams


Trigger = Annotated[
    TransitionTrigger | ThresholdTrigger | GeofenceTrigger | DeadlineTrigger | SequenceTrigger
    | CountTrigger,
    Field(discriminator="kind"),
]


_HOUR_MS = 3_600_000
_DAY_MS = 86_400_000
#: The longest window a contact rule may look back (caps, dedupe): what a subscriber's contact
#: history must keep (cjo.policy.contact.record_contact).
MAX_POLICY_WINDOW = 90 * _DAY_MS
#: Contacts remembered per subscriber, so the highest count a cap may have.
MAX_CONTACTS = 64


def _policy_window(ms: int) -> int:
    if ms > MAX_POLICY_WINDOW:
        raise ValueError(f"a contact rule looks back at most {MAX_POLICY_WINDOW // _DAY_MS}d, "
                         f"got {ms / _DAY_MS:g}d")
    return ms


#: A duration a contact rule looks back: at most :data:`MAX_POLICY_WINDOW`.
PolicyWindow = Annotated[int, BeforeValidator(parse_duration), AfterValidator(_policy_window)]


class Cap(Strict):
    """At most ``count`` contacts within any rolling ``within`` (the window ending now)."""

    count: int = Field(ge=1, le=MAX_CONTACTS)
    within: PolicyWindow = Field(gt=0)


class QuietHours(Strict):
    """Local times of day (the subscriber's profile time zone); ``end`` before ``start`` means
    the quiet period crosses midnight (the usual case: 21:00 to 08:00)."""

    start: str = Field(default="21:00", pattern=_TIME_OF_DAY)
    end: str = Field(default="08:00", pattern=_TIME_OF_DAY)

    @model_validator(mode="after")
    def _some_quiet(self) -> QuietHours:
        if minutes_of_day(self.start) == minutes_of_day(self.end):
            raise ValueError("start and end are the same time: give a quiet period, or "
                             "quiet_hours: null for none")
        return self


def minutes_of_day(text: str) -> int:
    """``'21:30'`` -> 1290."""
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def _default_caps() -> list[Cap]:
    return [Cap(count=2, within=24 * _HOUR_MS), Cap(count=5, within=7 * _DAY_MS)]


class PolicyDef(Strict):
    """The contact policy: one per catalogue (``policy:`` in at most one file), for every trigger.

    ``caps``: all marketing offers across triggers; ``channel_caps``: per channel, on top;
    ``quiet_hours``: null for none; ``dedupe``: the same offer code is not offered again to the
    same subscriber within it (0: never deduplicated); ``holdout_pct``: the share of subscribers
    who never receive marketing offers (the control group), chosen by a hash of
    ``holdout_salt`` and the IMSI; ``response_window``: how long a response or conversion counts.
    """

    caps: list[Cap] = Field(default_factory=_default_caps)
    channel_caps: dict[Channel, list[Cap]] = Field(default_factory=dict)
    quiet_hours: QuietHours | None = QuietHours()
    dedupe: PolicyWindow = Field(default=14 * _DAY_MS, ge=0)
    holdout_pct: float = Field(default=5.0, ge=0, le=50)
    holdout_salt: str = Field(default="cjo-holdout", min_length=1)
    response_window: Duration = Field(default=72 * _HOUR_MS, gt=0)


class AttributeDef(Strict):
    """A profile attribute triggers may use (``eligibility.where``, ``$name`` in templates).

    Profiles carry it as text in their ``attributes`` map; ``type: number`` compares it as a
    number (ranges allowed), ``values`` lists the only texts a condition may name, ``default``
    is what a template shows for a profile without it."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    type: Literal["text", "number"] = "text"
    values: list[str] | None = Field(None, min_length=1)
    default: str = ""
    description: str = ""


class CatalogueFile(Strict):
    """One YAML file: ``attributes``, ``venues``, ``triggers`` and ``policy`` (any may be absent;
    ``policy`` in at most one file of a catalogue)."""

    attributes: list[AttributeDef] = Field(default_factory=list)
    venues: list[Venue] = Field(default_factory=list)
    triggers: list[Trigger] = Field(default_factory=list)
    policy: PolicyDef | None = None
