"""`cjo catalogue apply | diff | list | try`: the live catalogue and what a new one would do.

``apply`` validates the files first: a refused catalogue (or one with no trigger) never reaches
the topic, so the one in force stays. ``try`` runs a recorded log through the domain in process
(no broker) under the given files, which is how a marketer checks a new trigger before it goes
live.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from cjo.adapters.catalogue_topic import publish, read_live
from cjo.catalogue.catalogue import diff, require_triggers
from cjo.catalogue.describe import describe
from cjo.catalogue.validate import load_files
from cjo.offline import read_log, run_offline
from cjo.settings import Settings


def run_apply(settings: Settings, files: Sequence[Path], out: TextIO = sys.stdout) -> int:
    new = require_triggers(load_files(files))
    old = read_live(settings).catalogue
    changes = diff(old, new)
    if not changes:
        print(f"catalogue {new.digest} is already live: nothing to apply", file=out)
        return 0
    publish(settings, new)
    print("\n".join(changes), file=out)
    print(f"applied catalogue {new.digest} ({len(new.enabled())} triggers enabled) to "
          f"{settings.topics['catalogue']}", file=out)
    return 0


def run_diff(settings: Settings, files: Sequence[Path], out: TextIO = sys.stdout) -> int:
    """Exit 0 when the files equal what is live, 1 when they differ (like diff(1))."""
    new = load_files(files)
    changes = diff(read_live(settings).catalogue, new)
    print("\n".join(changes) if changes else "no changes", file=out)
    return 1 if changes else 0


def run_list(settings: Settings, out: TextIO = sys.stdout) -> int:
    live = read_live(settings).catalogue
    if live is None:
        print(f"no catalogue applied on {settings.topics['catalogue']}: workers use "
              f"{settings.catalogue or 'the bundled default'}", file=out)
        return 0
    print(f"live catalogue {live.digest}", file=out)
    print(describe(live), file=out)
    return 0


def run_try(files: Sequence[Path], log: Path, partitions: int = 1,
            out: TextIO = sys.stdout) -> int:
    catalogue = load_files(files)
    records, bad = read_log(log)
    result = run_offline(records, catalogue, partitions)
    outcomes = Counter((d["trigger_id"], d["outcome"]) for d in result.decisions)
    print(f"{result.records} records ({bad} bad lines skipped), {result.timers_fired} timers "
          f"fired, {len(result.decisions)} decisions under catalogue {catalogue.digest}", file=out)
    for trigger in catalogue.triggers:
        counts = {o: n for (t, o), n in outcomes.items() if t == trigger.id}
        shown = ", ".join(f"{o} {n}" for o, n in sorted(counts.items())) or "no moment"
        print(f"  {trigger.id:<28} {shown}", file=out)
    return 0
