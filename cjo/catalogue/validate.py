"""Loading and validating a trigger catalogue: every problem, each at its file, line and field.

A catalogue is one or more YAML files (``attributes``, ``venues``, ``triggers``, ``policy``).
Each file is parsed keeping line numbers (:mod:`cjo.catalogue.source`) and checked against the
schema (:class:`cjo.catalogue.model.CatalogueFile`); an entry the schema refuses is checked
further with the refused parts left out (:mod:`cjo.catalogue.repair`), so one run reports every
independent problem. Then the whole is cross-checked: ids unique across files, at most one file
has a ``policy``, each trigger as its kind checks it (``Kind.validate``: geofence venues exist, a
deadline's anchor trigger exists, count and sequence matchers name an input stream or derived
fact and fields its records have, thresholds are in range), offers' ``conversion`` matchers
likewise, eligibility conditions name declared profile attributes
(:mod:`cjo.catalogue.profile_attributes`), template languages look like BCP-47 tags, and every
template renders with its kind's placeholders (``Kind.samples``) and the declared attributes.
All problems are collected and raised together as :class:`CatalogueRejected`; nothing partial
is ever returned.
"""

from __future__ import annotations

import re
import string
import types
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from cjo.catalogue.attributes import COMMON, sample_values
from cjo.catalogue.catalogue import Catalogue, digest_of, payload_sources, require_triggers
from cjo.catalogue.model import (
    AttributeDef,
    CatalogueFile,
    Matcher,
    PolicyDef,
    Trigger,
    TriggerBase,
    Venue,
)
from cjo.catalogue.profile_attributes import attribute_problem
from cjo.catalogue.repair import child, repaired
from cjo.catalogue.schema_errors import explain, show, suggest, trigger_kinds
from cjo.catalogue.source import Parsed, parse
from cjo.catalogue.source import Path as KeyPath
from cjo.catalogue.where import Condition
from cjo.codec import RECORD_OF_STREAM, schema
from cjo.errors import CatalogueError, CatalogueRejected
from cjo.triggers.kinds import KINDS

DEFAULTS_DIR = Path(__file__).resolve().parent / "defaults"
DEFAULT_FILES = ("venues.yaml", "triggers.yaml")

#: Derived facts count and sequence steps may match (cjo.triggers.facts), with their fields.
DERIVED_FACTS: dict[str, dict[str, Any]] = {
    "trial_started": {"product_id": "string", "expires_at": "long"},
    "topup": {"amount": "double", "balance": "double"},
    "bundle_purchased": {"bundle_id": "string", "total": "long"},
}
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Z][a-z]{3})?(-(?:[A-Z]{2}|[0-9]{3}))?$")
_TRIGGER_ADAPTER: TypeAdapter[Trigger] = TypeAdapter(Trigger)


def load_files(paths: Iterable[str | Path]) -> Catalogue:
    """Read and validate catalogue files; a file that cannot be read is one more problem."""
    sources: list[tuple[str, str]] = []
    unreadable: list[CatalogueError] = []
    for path in paths:
        try:
            sources.append((str(path), Path(path).read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError) as error:
            reason = error.strerror if isinstance(error, OSError) and error.strerror else error
            unreadable.append(CatalogueError(str(path), 1, "", f"cannot read the file: {reason}"))
    return load_catalogue(sources, unreadable)


def default_catalogue() -> Catalogue:
    """The catalogue bundled with cjo (``cjo/catalogue/defaults/*.yaml``)."""
    return load_catalogue([
        (f"defaults/{name}", (DEFAULTS_DIR / name).read_text(encoding="utf-8"))
        for name in DEFAULT_FILES
    ])


def load_payload(data: bytes) -> Catalogue:
    """A published catalogue (``Catalogue.to_payload``), validated again rather than trusted:
    ``CatalogueRejected`` if it is not one, or has no trigger."""
    return require_triggers(load_catalogue(payload_sources(data)))


def load_catalogue(sources: Sequence[tuple[str, str]],
                   also: Sequence[CatalogueError] = ()) -> Catalogue:
    """Validate (name, YAML text) pairs as one catalogue; raise :class:`CatalogueRejected` with
    every problem found (and ``also``, problems the caller found first)."""
    checker = _Checker()
    checker.problems += also
    for name, text in sources:
        checker.add_file(name, text)
    checker.cross_check()
    if checker.problems:
        order = {name: index for index, (name, _text) in enumerate(sources)}
        checker.problems.sort(key=lambda p: (order.get(p.file, len(order)), p.line))
        raise CatalogueRejected(checker.problems)
    return Catalogue(
        triggers=tuple(entry.item for entry in checker.triggers),
        venues=types.MappingProxyType({e.item.id: e.item for e in checker.venues}),
        attributes=types.MappingProxyType({e.item.name: e.item for e in checker.attributes}),
        sources=tuple((name, text) for name, text in sources),
        digest=digest_of(sources),
        policy=checker.policy or PolicyDef(),
    )


@dataclass(frozen=True, slots=True)
class _Entry:
    """A valid venue or trigger and where it was written."""

    item: Any  # Venue | Trigger
    file: str
    parsed: Parsed
    path: KeyPath  # ("triggers", 3)

    def line(self, *sub: str | int) -> int:
        return self.parsed.line_of((*self.path, *sub))

    def where(self) -> str:
        return f"{self.file}:{self.line()}"


class _Checker:
    def __init__(self) -> None:
        self.problems: list[CatalogueError] = []
        self.venues: list[_Entry] = []
        self.triggers: list[_Entry] = []
        self.attributes: list[_Entry] = []
        self.declared: dict[str, AttributeDef] = {}  # valid attributes, by name
        self.broken_venues: set[str] = set()  # ids of venues refused by the schema
        self.broken_triggers: set[str] = set()
        self.broken_attributes: set[str] = set()
        self.policy: PolicyDef | None = None
        self.policy_sites: list[tuple[str, Parsed]] = []  # every file with a policy section

    def add_file(self, name: str, text: str) -> None:
        try:
            parsed = parse(name, text)
        except CatalogueError as error:
            self.problems.append(error)
            return
        value = {} if parsed.value is None else parsed.value
        if isinstance(value, dict) and "policy" in value:
            self.policy_sites.append((name, parsed))
        try:
            model = CatalogueFile.model_validate(value)
        except ValidationError as error:
            refused = self._schema_problems(name, parsed, error.errors())
            self._salvage(name, parsed, value, refused)
            return
        self.venues += [_Entry(v, name, parsed, ("venues", i)) for i, v in enumerate(model.venues)]
        self.attributes += [_Entry(a, name, parsed, ("attributes", i))
                            for i, a in enumerate(model.attributes)]
        self.triggers += [_Entry(t, name, parsed, ("triggers", i))
                          for i, t in enumerate(model.triggers)]
        if model.policy is not None:
            self.policy = model.policy

    def _salvage(self, name: str, parsed: Parsed, value: Any, refused: list[KeyPath]) -> None:
        """Keep the entries of a refused file that are valid, or valid once the parts already
        reported are left out (a misspelt optional field, a priority out of range: taken at its
        default), so cross checks still report their other problems, and nothing twice."""
        if not isinstance(value, dict):
            return
        for key, adapter, good, broken in (
            ("attributes", TypeAdapter(AttributeDef), self.attributes, self.broken_attributes),
            ("venues", TypeAdapter(Venue), self.venues, self.broken_venues),
            ("triggers", _TRIGGER_ADAPTER, self.triggers, self.broken_triggers),
        ):
            items = value.get(key)
            if not isinstance(items, list):
                continue
            for index, raw in enumerate(items):
                cuts = [path[2:] for path in refused if path[:2] == (key, index)]
                ident = raw.get("name" if key == "attributes" else "id") if isinstance(
                    raw, dict) else None
                if isinstance(ident, str):
                    broken.add(ident)  # references to it are not reported as unknown
                item = repaired(adapter, raw, cuts, f"refused_{len(self.problems)}_{index}")
                if item is not None:
                    good.append(_Entry(item, name, parsed, (key, index)))
                    continue
                if key == "triggers" and any(cut == ("kind",) for cut in cuts):
                    self._common_fields(name, parsed, index, raw)

    def _common_fields(self, name: str, parsed: Parsed, index: int, raw: Any) -> None:
        """A trigger whose kind is unknown: what every trigger has (id, offers, priority...) is
        still checked, though its params cannot be."""
        if not isinstance(raw, dict):
            return
        common = {k: v for k, v in raw.items() if k not in ("kind", "params")}
        try:
            TriggerBase.model_validate(common)
        except ValidationError as error:
            tag = trigger_kinds()[0]  # any kind: the common fields are the same in each
            self._schema_problems(name, parsed, [
                {**e, "loc": ("triggers", index, tag, *e["loc"])} for e in error.errors()])

    # -- schema errors -------------------------------------------------------------------------

    def _schema_problems(self, name: str, parsed: Parsed,
                         errors: list[ErrorDetails]) -> list[KeyPath]:
        """Report each error once; the paths reported."""
        seen: set[tuple[KeyPath, str]] = set()
        for error in errors:
            path, reason = explain(error)
            if (path, reason) in seen:  # one problem per union, not one per member
                continue
            seen.add((path, reason))
            self.add(name, parsed, path, reason)
        return [path for path, _reason in seen]

    def add(self, name: str, parsed: Parsed, path: KeyPath, reason: str) -> None:
        self.problems.append(
            CatalogueError(name, parsed.line_of(path), _field(parsed.value, path), reason))

    def at(self, entry: _Entry, sub: KeyPath, reason: str) -> None:
        self.add(entry.file, entry.parsed, (*entry.path, *sub), reason)

    # -- cross checks --------------------------------------------------------------------------

    def cross_check(self) -> None:
        venues = self._unique(self.venues, "venue")
        triggers = self._unique(self.triggers, "trigger")
        self._one_policy()
        self._attributes()
        for entry in self.triggers:
            trigger = entry.item
            self._eligibility(entry, trigger.eligibility.where)
            KINDS[trigger.kind].validate(trigger.id, trigger.params,
                                         _TriggerChecks(self, entry, venues, triggers))
            for index, offer in enumerate(trigger.offers):
                if offer.conversion is not None:
                    self.matcher(entry, ("offers", index, "conversion"), offer.conversion)
            self._templates(entry, trigger)

    def _one_policy(self) -> None:
        if len(self.policy_sites) < 2:
            return
        first_name, first = self.policy_sites[0]
        where = f"{first_name}:{first.line_of(('policy',))}"
        for name, parsed in self.policy_sites[1:]:
            self.add(name, parsed, ("policy",), f"policy is set in more than one file "
                                                f"(also at {where}); keep one")

    def _unique(self, entries: list[_Entry], what: str) -> dict[str, _Entry]:
        first: dict[str, _Entry] = {}
        for entry in entries:
            ident = entry.item.id
            if ident in first:
                self.at(entry, ("id",), f"duplicate {what} id {ident!r} "
                                       f"(also at {first[ident].where()})")
            else:
                first[ident] = entry
        return first

    def _attributes(self) -> None:
        """Each attribute declared once, under a name no offer placeholder has."""
        where: dict[str, _Entry] = {}
        for entry in self.attributes:
            name = entry.item.name
            if name in where:
                self.at(entry, ("name",), f"duplicate attribute {name!r} "
                                          f"(also at {where[name].where()})")
            elif name in COMMON:
                self.at(entry, ("name",), f"{name!r} is a placeholder every offer has: name "
                                          "the attribute otherwise")
            else:
                where[name] = entry
        self.declared = {name: entry.item for name, entry in where.items()}

    def _eligibility(self, entry: _Entry, conditions: Mapping[str, Any]) -> None:
        """``eligibility.where``: declared attributes, compared as their type allows."""
        for name, expected in conditions.items():
            path = ("eligibility", "where", name)
            attribute = self.declared.get(name)
            if attribute is None:
                if name not in self.broken_attributes:
                    self.at(entry, path, f"unknown profile attribute {name!r}: declare it in "
                                         f"an attributes section{suggest(name, self.declared)}")
                continue
            reason = attribute_problem(attribute, expected)
            if reason:
                self.at(entry, path, reason)

    def matcher(self, entry: _Entry, path: KeyPath, matcher: Matcher) -> None:
        fields = _fields_of(matcher.event)
        if fields is None:
            known = ", ".join([*RECORD_OF_STREAM, *DERIVED_FACTS])
            self.at(entry, (*path, "event"),
                    f"unknown event {matcher.event!r} (expected one of: {known})")
            return
        for name, expected in matcher.where.items():
            where = (*path, "where", name)
            if name not in fields:
                self.at(entry, where, f"{matcher.event} records have no field {name!r} "
                                      f"(fields: {', '.join(fields)})")
                continue
            if isinstance(expected, Condition):
                values = expected.values()
                reason = _check_range(fields[name]) if expected.is_range else ""
            else:
                values = expected if isinstance(expected, list) else [expected]
                reason = ""
            reason = reason or _check_values(fields[name], values)
            if reason:
                self.at(entry, where, reason)

    def _templates(self, entry: _Entry, trigger: Any) -> None:
        declared = {name: a.default or (a.values or ["x"])[0]
                    for name, a in self.declared.items()}
        values = {**declared, **sample_values(trigger.kind, trigger.params)}
        allowed = ", ".join(f"${name}" for name in sorted(values))
        for index, offer in enumerate(trigger.offers):
            for language, text in offer.templates.items():
                path = ("offers", index, "templates", language)
                if not _LANGUAGE.match(language):
                    self.at(entry, path, f"language {language!r} is not a BCP-47 tag such as "
                                         "en, de or pt-BR")
                problem = _render_problem(text, values)
                if problem:
                    reason, text_line = problem
                    retired = KINDS[trigger.kind].retired.get(
                        reason.removeprefix("unknown placeholder $"))
                    reason = f"{reason}: {retired}" if retired else reason
                    self.problems.append(CatalogueError(
                        entry.file, entry.parsed.line_in((*entry.path, *path), text_line),
                        _field(entry.parsed.value, (*entry.path, *path)),
                        f"{reason} (allowed: {allowed})"))


@dataclass(frozen=True, slots=True)
class _TriggerChecks:
    """What a kind's validation asks of the catalogue, for one trigger (``Checks``)."""

    checker: _Checker
    entry: _Entry
    venues: Mapping[str, _Entry]  # the valid venues, by id
    triggers: Mapping[str, _Entry]

    def refuse(self, path: KeyPath, reason: str) -> None:
        self.checker.at(self.entry, path, reason)

    def matcher(self, path: KeyPath, matcher: Matcher) -> None:
        self.checker.matcher(self.entry, path, matcher)

    def reference(self, path: KeyPath, what: Literal["venue", "trigger"], ident: str) -> None:
        known, broken = ((self.venues, self.checker.broken_venues) if what == "venue"
                         else (self.triggers, self.checker.broken_triggers))
        if ident not in known and ident not in broken:
            self.checker.at(self.entry, path, f"unknown {what} {ident!r}{suggest(ident, known)}")

    def venue_kinds(self) -> frozenset[str] | None:
        if self.checker.broken_venues:
            return None
        return frozenset(v.item.kind for v in self.venues.values())


def _render_problem(text: str, values: Mapping[str, Any]) -> tuple[str, int] | None:
    """Why ``text`` does not render with ``values``, and on which of its lines (0-based)."""
    template = string.Template(text)
    try:
        template.substitute(values)
    except KeyError as error:
        name = str(error.args[0])
        found = re.search(r"\$(?:\{)?" + re.escape(name) + r"\b", text)
        return f"unknown placeholder ${name}", text[:found.start() if found else 0].count("\n")
    except ValueError:
        for match in template.pattern.finditer(text):
            if match.group("invalid") is not None:
                line = text[:match.start()].count("\n")
                return "a $ must start a placeholder name; write $$ for a literal $", line
        return "a $ must start a placeholder name; write $$ for a literal $", 0
    return None


# -- explaining pydantic errors ------------------------------------------------------------------


def _field(raw: Any, path: KeyPath) -> str:
    """``("triggers", 3, "params", "below")`` -> ``triggers[3] (bill_shock).params.below``."""
    out = ""
    node = raw
    for depth, part in enumerate(path):
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
        node = child(node, part)
        if depth == 1 and isinstance(node, dict) and isinstance(node.get("id"), str):
            out += f" ({node['id']})"
    return out


# -- the fields count and sequence steps may compare --------------------------------------------


def _fields_of(event: str) -> dict[str, Any] | None:
    if event in DERIVED_FACTS:
        return DERIVED_FACTS[event]
    record = RECORD_OF_STREAM.get(event)
    if record is None:
        return None
    return {f["name"]: f["type"] for f in schema(record)["fields"]}


_NUMBERS = frozenset({"int", "long", "float", "double"})


def _check_range(avro_type: Any) -> str:
    """A reason if a range (gt, gte, lt, lte) cannot apply to the field (not a number), else ''."""
    branches = avro_type if isinstance(avro_type, list) else [avro_type]
    kinds = [b.get("type") if isinstance(b, dict) else b for b in branches if b != "null"]
    if kinds and all(kind in _NUMBERS for kind in kinds):
        return ""
    shown = ", ".join(str(kind if isinstance(kind, str) else "record") for kind in kinds)
    return f"a range (gt, gte, lt, lte) needs a number field, this one is {shown}"


def _check_values(avro_type: Any, values: list[Any]) -> str:
    """A reason if a ``where`` value cannot equal the field (enum symbols, booleans), else ''."""
    branches = avro_type if isinstance(avro_type, list) else [avro_type]
    branches = [b for b in branches if b != "null"]
    if len(branches) != 1:
        return ""
    branch = branches[0]
    if isinstance(branch, dict) and branch.get("type") == "enum":
        symbols = list(branch["symbols"])
        bad = [v for v in values if v not in symbols]
        if bad:
            return f"expected one of: {', '.join(symbols)}, got {show(bad[0])}"
    if branch == "boolean":
        bad = [v for v in values if not isinstance(v, bool)]
        if bad:
            return f"expected true or false, got {show(bad[0])}"
    return ""
