"""Generic trigger kinds (see base.Kind), by the name a catalogue trigger's ``kind`` gives."""

from typing import Any

from cjo.triggers.kinds.base import Kind
from cjo.triggers.kinds.count import Count
from cjo.triggers.kinds.deadline import Deadline
from cjo.triggers.kinds.geofence import Geofence
from cjo.triggers.kinds.sequence import Sequence
from cjo.triggers.kinds.threshold import Threshold
from cjo.triggers.kinds.transition import Transition

_ALL: tuple[Kind[Any], ...] = (
    Transition(), Threshold(), Geofence(), Deadline(), Sequence(), Count())
KINDS: dict[str, Kind[Any]] = {kind.name: kind for kind in _ALL}

__all__ = ["KINDS", "Kind"]
