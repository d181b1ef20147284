"""Trigger moments: what a trigger detects from (event, state before, state after)."""

from cjo.triggers.moment import Moment
from cjo.triggers.roaming import ROAMING_WELCOME, detect_roaming_welcome

__all__ = ["ROAMING_WELCOME", "Moment", "detect_roaming_welcome"]
