"""A validated trigger catalogue: the triggers and venues of one or more YAML files.

A :class:`Catalogue` is only ever made by :func:`cjo.catalogue.validate.load_catalogue`, so holding
one means every check passed. It keeps its sources (file name, YAML text): they are what travels on
the control topic (:meth:`Catalogue.to_payload`), and a worker re-validates them on receipt
(``cjo.catalogue.validate.load_payload``) rather than trusting the sender: the payload is bounded in
size (``MAX_PAYLOAD_BYTES``), its YAML texts in size, depth and values (``cjo.catalogue.source``),
and a catalogue with no trigger is refused (:func:`require_triggers`): applied, it would silently
turn every trigger off.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar, cast

import orjson

from cjo.catalogue.model import AttributeDef, PolicyDef, Trigger, Venue
from cjo.errors import CatalogueError, CatalogueRejected

PAYLOAD_FORMAT = "cjo.catalogue/1"
MAX_PAYLOAD_BYTES = 4 * 1024 * 1024  # several catalogues' worth; a Kafka record is 1 MiB
T = TypeVar("T")


def digest_of(sources: Sequence[tuple[str, str]]) -> str:
    """The catalogue's version id: 12 hex digits of a sha256 over the sources' texts.

    File names and the order of the files do not count (``venues.yaml triggers.yaml`` and the
    reverse are the same catalogue); the texts, comments included, do.
    """
    sha = hashlib.sha256()
    for text_digest in sorted(hashlib.sha256(text.encode("utf-8")).digest()
                              for _name, text in sources):
        sha.update(text_digest)
    return sha.hexdigest()[:12]


@dataclass(frozen=True)
class Catalogue:
    triggers: tuple[Trigger, ...]  # in file order
    venues: Mapping[str, Venue]
    sources: tuple[tuple[str, str], ...]
    digest: str  # version id: 12 hex digits of the sources' sha256 (:func:`digest_of`)
    policy: PolicyDef = field(default_factory=PolicyDef)  # the contact policy (defaults if none)
    #: profile attributes triggers may use, by name (the ``attributes`` sections)
    attributes: Mapping[str, AttributeDef] = field(default_factory=dict)

    def enabled(self) -> tuple[Trigger, ...]:
        return self._enabled

    def get(self, trigger_id: str) -> Trigger | None:
        return self._by_id.get(trigger_id)

    @cached_property
    def _enabled(self) -> tuple[Trigger, ...]:
        return tuple(trigger for trigger in self.triggers if trigger.enabled)

    @cached_property
    def _by_id(self) -> dict[str, Trigger]:
        return {t.id: t for t in self.triggers}

    def memo(self, key: Hashable, build: Callable[[Catalogue], T]) -> T:
        """``build(self)``, worked out on the first call with ``key`` and kept with the
        catalogue (which never changes): what the domain derives from it once, not per record."""
        try:
            return cast(T, self._memo[key])
        except KeyError:
            value = self._memo[key] = build(self)
            return value

    @cached_property
    def _memo(self) -> dict[Hashable, object]:
        return {}

    @cached_property
    def ids(self) -> frozenset[str]:
        """Every trigger id, enabled or not."""
        return frozenset(self._by_id)

    def to_payload(self) -> bytes:
        """JSON of the sources and the digest: the value published on the control topic."""
        return json.dumps({
            "format": PAYLOAD_FORMAT,
            "digest": self.digest,
            "sources": [{"name": name, "text": text} for name, text in self.sources],
        }, ensure_ascii=False, sort_keys=True).encode("utf-8")


def _refuse(reason: str) -> CatalogueRejected:
    return CatalogueRejected([CatalogueError("<payload>", 1, "", reason)])


def require_triggers(catalogue: Catalogue) -> Catalogue:
    """``catalogue`` if it has a trigger; else ``CatalogueRejected`` (it would turn every trigger
    off: to pause one, set ``enabled: false`` on it)."""
    if not catalogue.triggers:
        where = ", ".join(name for name, _text in catalogue.sources) or "<catalogue>"
        raise CatalogueRejected([CatalogueError(
            where, 1, "", f"catalogue {catalogue.digest} has no trigger: refused, it would turn "
                          "every trigger off")])
    return catalogue


def payload_sources(data: bytes) -> list[tuple[str, str]]:
    if len(data) > MAX_PAYLOAD_BYTES:
        raise _refuse(f"payload of {len(data):,} bytes: at most {MAX_PAYLOAD_BYTES:,}")
    try:
        document: Any = orjson.loads(data)  # depth-bounded: never a RecursionError
    except orjson.JSONDecodeError as error:
        raise _refuse(f"not JSON: {error}") from None
    if not isinstance(document, dict) or document.get("format") != PAYLOAD_FORMAT:
        raise _refuse(f"expected a JSON object with format {PAYLOAD_FORMAT!r}")
    raw = document.get("sources")
    if not isinstance(raw, list) or not all(
        isinstance(item, dict) and isinstance(item.get("name"), str)
        and isinstance(item.get("text"), str) for item in raw
    ):
        raise _refuse("expected sources: a list of {name, text} objects")
    sources = [(item["name"], item["text"]) for item in raw]
    if document.get("digest") != digest_of(sources):
        raise _refuse(f"digest {document.get('digest')!r} does not match the sources "
                     f"({digest_of(sources)})")
    return sources


def diff(old: Catalogue | None, new: Catalogue) -> list[str]:
    """What changes from ``old`` to ``new``, one human line per trigger or venue and one for the
    contact policy (against the defaults when there is no ``old``); [] if equal.

    ``+ trigger bill_shock (threshold, v1)``, ``- trigger stadium_leaving``,
    ``~ trigger roaming_welcome v1 -> v2: max_delay, offers[0].templates.de``, ``+ venue wembley``,
    ``~ policy: caps, quiet_hours.start``, ``+ attribute loyalty_tier (text)``.
    """
    lines: list[str] = []
    old_triggers = {t.id: t for t in old.triggers} if old else {}
    new_triggers = {t.id: t for t in new.triggers}
    for trigger in new.triggers:
        before = old_triggers.get(trigger.id)
        if before is None:
            lines.append(f"+ trigger {trigger.id} ({trigger.kind}, v{trigger.version})")
            continue
        changed = _changed_paths(_dump(before), _dump(trigger))
        changed = [path for path in changed if path != "version"]
        if changed or before.version != trigger.version:
            versions = (f"v{trigger.version}" if before.version == trigger.version
                        else f"v{before.version} -> v{trigger.version}")
            what = ", ".join(changed) if changed else "version only"
            lines.append(f"~ trigger {trigger.id} {versions}: {what}")
    lines += [f"- trigger {tid}" for tid in old_triggers if tid not in new_triggers]
    old_venues: Mapping[str, Venue] = old.venues if old else {}
    for vid, venue in new.venues.items():
        if vid not in old_venues:
            lines.append(f"+ venue {vid}")
        else:
            changed = _changed_paths(_dump(old_venues[vid]), _dump(venue))
            if changed:
                lines.append(f"~ venue {vid}: {', '.join(changed)}")
    lines += [f"- venue {vid}" for vid in old_venues if vid not in new.venues]
    changed = _changed_paths(_dump(old.policy if old else PolicyDef()), _dump(new.policy))
    if changed:
        lines.append(f"~ policy: {', '.join(changed)}")
    old_attributes: Mapping[str, AttributeDef] = old.attributes if old else {}
    for name, attribute in new.attributes.items():
        if name not in old_attributes:
            lines.append(f"+ attribute {name} ({attribute.type})")
        elif changed := _changed_paths(_dump(old_attributes[name]), _dump(attribute)):
            lines.append(f"~ attribute {name}: {', '.join(changed)}")
    lines += [f"- attribute {name}" for name in old_attributes if name not in new.attributes]
    return lines


def _dump(model: Trigger | Venue | PolicyDef | AttributeDef) -> Any:
    return model.model_dump(mode="json", by_alias=True)


def _changed_paths(before: Any, after: Any, path: str = "") -> list[str]:
    if isinstance(before, dict) and isinstance(after, dict):
        out: list[str] = []
        for key in [*before, *(k for k in after if k not in before)]:
            sub = f"{path}.{key}" if path else str(key)
            if key not in before or key not in after:
                out.append(sub)
            else:
                out += _changed_paths(before[key], after[key], sub)
        return out
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        out = []
        for index, (b, a) in enumerate(zip(before, after, strict=True)):
            out += _changed_paths(b, a, f"{path}[{index}]")
        return out
    return [] if before == after else [path]
