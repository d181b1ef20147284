"""Durable event-time timers: index keys ordered by due time, and per-partition watermarks."""

from cjo.timers.keys import TIMER_PREFIX, Timer, due_bound, scan_due, watermark_key
from cjo.timers.watermark import Watermark

__all__ = ["TIMER_PREFIX", "Timer", "Watermark", "due_bound", "scan_due",
           "watermark_key"]
