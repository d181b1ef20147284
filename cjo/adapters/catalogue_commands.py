"""`cjo catalogue apply | diff | list | try`: the live catalogue and what a new one would do.

``apply`` and ``diff`` compare with the catalogue in force: the one on the topic, or, while
nothing was ever applied, exactly what the workers then run (``CJO_CATALOGUE``'s files or the
bundled default). ``apply`` validates first (a refused catalogue, or one with no trigger,
never reaches the topic) and asks before it removes a trigger (``--yes`` for scripts; without a
terminal it refuses). ``try`` runs a recorded log through the domain in process (no broker)
under the given files, which is how a marketer checks a new trigger before it goes live.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from cjo.adapters.audit_commands import check_imsi
from cjo.adapters.catalogue_topic import fallback_catalogue, publish, read_live
from cjo.adapters.jsonl import write_jsonl
from cjo.catalogue.catalogue import Catalogue, diff, require_triggers
from cjo.catalogue.describe import describe
from cjo.catalogue.validate import load_files
from cjo.engine.offline import read_log, run_offline
from cjo.errors import ConfigError
from cjo.logs import shown_error
from cjo.report.explain import explain
from cjo.settings import Settings
from cjo.summary import outcome_reasons
from cjo.words import count

BAD_LINES_SHOWN = 5  # as many as cjo replay shows (ERRORS_KEPT)

Ask = Callable[[str], bool]


def in_force(settings: Settings) -> tuple[Catalogue, str]:
    """The catalogue the workers run now, and where it comes from (for the first line)."""
    live = read_live(settings).catalogue
    if live is not None:
        return live, f"the live catalogue {live.digest} on {settings.topics['catalogue']}"
    source = f"CJO_CATALOGUE ({settings.catalogue})" if settings.catalogue.strip() else \
        "the bundled default"
    return fallback_catalogue(settings), f"{source}: nothing applied on " \
        f"{settings.topics['catalogue']} yet, so workers run it"


def ask_on_terminal(question: str) -> bool:
    """y/N on a terminal; without one, there is nobody to ask (the caller refuses)."""
    if not sys.stdin.isatty():
        raise ConfigError(f"{question.rstrip('? ')}: nobody to ask (stdin is not a terminal); "
                          f"rerun with --yes to confirm")
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")


def run_apply(settings: Settings, files: Sequence[Path], out: TextIO = sys.stdout,
              yes: bool = False, ask: Ask = ask_on_terminal) -> int:
    """0 when applied (or nothing to apply), 1 when the user declined to remove triggers."""
    new = require_triggers(load_files(files))
    old, source = in_force(settings)
    changes = diff(old, new)
    if not changes:
        print(f"catalogue {new.digest} is already in force ({source}): nothing to apply",
              file=out)
        return 0
    print(f"changes against {source}:", file=out)
    print("\n".join(changes), file=out, flush=True)
    removed = [line.split()[-1] for line in changes if line.startswith("- trigger ")]
    if removed and not yes and not ask(f"remove {len(removed)} trigger(s) "
                                       f"({', '.join(removed)})?"):
        print("nothing applied", file=out)
        return 1
    publish(settings, new)
    print(f"applied catalogue {new.digest} ({len(new.enabled())} triggers enabled) to "
          f"{settings.topics['catalogue']}", file=out)
    return 0


def run_diff(settings: Settings, files: Sequence[Path], out: TextIO = sys.stdout) -> int:
    """Exit 0 when the files equal what is in force, 1 when they differ (like diff(1))."""
    new = load_files(files)
    old, source = in_force(settings)
    changes = diff(old, new)
    print(f"against {source}:", file=out)
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
            out: TextIO = sys.stdout, decisions: Path | None = None,
            explain_imsi: str | None = None, last: int = 20) -> int:
    if explain_imsi is not None:
        check_imsi(explain_imsi)
    catalogue = load_files(files)
    records, bad = read_log(log)
    result = run_offline(records, catalogue, partitions)
    outcomes = Counter((d["trigger_id"], d["outcome"]) for d in result.decisions)
    print(f"{count(result.records, 'record')} ({count(len(bad), 'bad line')} skipped), "
          f"{count(result.timers_fired, 'timer')} fired, "
          f"{count(len(result.decisions), 'decision')} under catalogue {catalogue.digest}",
          file=out)
    for number, error in bad[:BAD_LINES_SHOWN]:
        print(f"    line {number}: {shown_error(error)}", file=out)
    if len(bad) > BAD_LINES_SHOWN:
        print(f"    ... and {len(bad) - BAD_LINES_SHOWN:,} more", file=out)
    for trigger in catalogue.triggers:
        counts = {o: n for (t, o), n in outcomes.items() if t == trigger.id}
        shown = ", ".join(f"{o} {n}" for o, n in sorted(counts.items())) or (
            "no moment in this log" if trigger.enabled else "disabled (enabled: false)")
        print(f"  {trigger.id:<28} {shown}", file=out)
    for line in outcome_reasons(result.decisions):
        print(line, file=out)
    if decisions is not None:
        written = write_jsonl(decisions, result.decisions)
        print(f"wrote {count(written, 'decision')} (with their reasons) to {decisions}",
              file=out)
    if explain_imsi is not None:
        mine = [d for d in result.decisions if d.get("imsi") == explain_imsi]
        closed = [o for o in result.outcomes if o.get("imsi") == explain_imsi]
        print("", file=out)
        print(explain(explain_imsi, mine, closed, last), file=out)
    return 0
