"""A detected trigger moment: a candidate for a decision, not yet a decision."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Moment:
    trigger_id: str
    instance: str  # what makes this moment unique for the subscriber (e.g. the trip's start)
    imsi: str
    event_id: str  # the event that revealed it
    event_time: int  # event time of the moment (epoch ms)
    attrs: dict[str, Any] = field(default_factory=dict)  # values the message template may use

    @property
    def instance_key(self) -> str:
        return f"{self.trigger_id}:{self.instance}"
