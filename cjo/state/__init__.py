"""The per-subscriber state value and how events update it."""

from cjo.state.model import SubscriberState
from cjo.state.update import Position, apply_record

__all__ = ["Position", "SubscriberState", "apply_record"]
