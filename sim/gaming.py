"""Gamers on day passes: a first ``gaming_pass_1d`` in the profile, a second one taken a day
later (a profile update adding a new trial entry), and games played while it runs."""

from __future__ import annotations

import random
from dataclasses import dataclass

from sim.timeline import DAY, HOUR, MINUTE, Segment, activity_bins, sample_times

PASS = "gaming_pass_1d"
SHARE = 0.03  # of subscribers; twice that among the young
YOUNG_SHARE = 0.08
PLAY_WINDOW = 12 * HOUR  # the games come within this much of taking the second pass


@dataclass(frozen=True)
class GamingPasses:
    first_expires: int  # the pass in the profile at the start, expiring while ACTIVE
    second_at: int  # the profile update adding the second pass
    second_expires: int
    plays: tuple[tuple[int, Segment], ...]  # GAMING sessions (end, segment) after second_at


def plan_passes(
    rng: random.Random, young: bool, segs: list[Segment], start: int, days: int
) -> GamingPasses | None:
    """For a few subscribers, two passes and the sessions after the second; None for the rest
    (and for one without attached time to play in)."""
    if days < 1 or rng.random() >= (YOUNG_SHARE if young else SHARE):
        return None
    end = start + days * DAY
    first_expires = start + int(rng.uniform(6.0, 14.0) * HOUR)
    if days >= 2:
        second_at = start + DAY + int(rng.uniform(9.0, 15.0) * HOUR)
    else:
        second_at = first_expires + int(rng.uniform(1.0, 4.0) * HOUR)
    window_start = second_at + 10 * MINUTE
    bins = activity_bins(segs, window_start, min(end, second_at + PLAY_WINDOW))
    plays = sample_times(rng, bins, rng.randint(2, 4))
    if not plays:
        return None
    return GamingPasses(first_expires, second_at, second_at + DAY, tuple(plays))
