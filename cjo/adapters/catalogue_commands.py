"""`cjo catalogue apply | diff | list | show | history | rollback | try`: the live catalogue and
what a new one would do.

``apply`` and ``diff`` compare with the catalogue in force: the one on the topic, or, while
nothing was ever applied, exactly what the workers then run (``CJO_CATALOGUE``'s files or the
bundled default). ``apply`` validates first (a refused catalogue, or one with no trigger,
never reaches the topic) and asks before it removes a trigger (``--yes`` for scripts; without a
terminal it refuses); with ``--merge`` the files go on top of the catalogue in force instead
of replacing it (``cjo.catalogue.merge``). ``show`` prints the YAML in force, ``history`` every
catalogue applied (by digest), ``rollback`` applies one of them again. ``try`` runs a recorded
log through the domain in process (no broker) under the given files, which is how a marketer
checks a new trigger before it goes live.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path, PurePath
from typing import TextIO

from cjo.adapters.audit_commands import check_imsi
from cjo.adapters.catalogue_topic import earlier, fallback_catalogue, history, publish, read_live
from cjo.adapters.jsonl import write_jsonl
from cjo.catalogue.catalogue import Catalogue, diff, require_triggers
from cjo.catalogue.describe import describe
from cjo.catalogue.merge import export, merge_sources
from cjo.catalogue.validate import load_catalogue, load_files
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


def new_catalogue(settings: Settings, files: Sequence[Path], merge: bool) -> Catalogue:
    """The files as one catalogue, or with ``merge`` the catalogue in force with the files'
    triggers, venues and policy added or replaced (``cjo.catalogue.merge``)."""
    if not merge:
        return load_files(files)
    load_files(files)  # each file's own problems, at its own lines
    old, _source = in_force(settings)
    added = [(str(path), path.read_text(encoding="utf-8")) for path in files]
    return load_catalogue(merge_sources(old.sources, added))


def run_apply(settings: Settings, files: Sequence[Path], out: TextIO = sys.stdout,
              yes: bool = False, ask: Ask = ask_on_terminal, merge: bool = False) -> int:
    """0 when applied (or nothing to apply), 1 when the user declined to remove triggers."""
    return apply_catalogue(settings, require_triggers(new_catalogue(settings, files, merge)),
                           out, yes, ask, files=files)


def apply_catalogue(settings: Settings, new: Catalogue, out: TextIO = sys.stdout,
                    yes: bool = False, ask: Ask = ask_on_terminal,
                    files: Sequence[Path] = ()) -> int:
    """Publish ``new`` after showing what changes; removing triggers is asked first."""
    old, source = in_force(settings)
    changes = diff(old, new)
    if not changes:
        print(f"catalogue {new.digest} is already in force ({source}): nothing to apply",
              file=out)
        return 0
    print(f"changes against {source}:", file=out)
    print("\n".join(changes), file=out, flush=True)
    removed = [line.split()[-1] for line in changes if line.startswith("- trigger ")]
    if removed and not yes:
        # the likely intent of a few files: add to what is in force, not replace it
        merge = (f"to add or change triggers on top of the catalogue in force instead of "
                 f"replacing it: cjo catalogue apply --merge {' '.join(map(str, files))}")
        if files:
            print(f"({merge})", file=out, flush=True)
        try:
            confirmed = ask(f"remove {len(removed)} trigger(s) ({', '.join(removed)})?")
        except ConfigError as error:
            raise ConfigError(f"{error}; {merge}" if files else str(error)) from None
        if not confirmed:
            print("nothing applied", file=out)
            return 1
    publish(settings, new)
    print(f"applied catalogue {new.digest} ({len(new.enabled())} triggers enabled) to "
          f"{settings.topics['catalogue']}", file=out)
    return 0


def run_show(settings: Settings, out_dir: Path | None, out: TextIO = sys.stdout) -> int:
    """The YAML texts of the catalogue in force: printed, or written as files into ``out_dir``
    (to edit and apply again)."""
    catalogue, source = in_force(settings)
    if out_dir is None:
        print(f"# catalogue {catalogue.digest}: {source}", file=out)
        print(export(catalogue.sources), file=out, end="")
        return 0
    written: list[Path] = []
    for name, text in catalogue.sources:
        target = out_dir / PurePath(name.removesuffix(" (earlier)")).name
        if target in written:
            target = target.with_stem(f"{target.stem}-{len(written)}")
        target.write_text(text, encoding="utf-8")
        written.append(target)
    print(f"wrote catalogue {catalogue.digest} ({source}) as {len(written)} files: "
          f"{' '.join(map(str, written))}", file=out)
    return 0


def run_history(settings: Settings, out: TextIO = sys.stdout) -> int:
    """Every catalogue applied, oldest first, the one in force marked."""
    entries = history(settings)
    live = read_live(settings).catalogue
    if not entries:
        print(f"no catalogue applied on {settings.topics['catalogue']} yet: workers run "
              f"{settings.catalogue or 'the bundled default'}", file=out)
        return 0
    print(f"catalogues applied on {settings.topics['catalogue']}, oldest first "
          f"(cjo catalogue rollback DIGEST to go back):", file=out)
    for entry in entries:
        when = datetime.fromtimestamp(entry.timestamp_ms / 1000, UTC).strftime(
            "%Y-%m-%d %H:%M:%S UTC")
        mark = "  <- in force" if live is not None and live.digest == entry.digest else ""
        print(f"  {entry.digest}  last applied {when}{mark}", file=out)
    return 0


def run_rollback(settings: Settings, digest: str, out: TextIO = sys.stdout, yes: bool = False,
                 ask: Ask = ask_on_terminal) -> int:
    """The catalogue applied earlier with ``digest`` applied again (asked as ``apply`` asks)."""
    return apply_catalogue(settings, earlier(settings, digest), out, yes, ask)


def run_diff(settings: Settings, files: Sequence[Path], out: TextIO = sys.stdout,
             merge: bool = False) -> int:
    """Exit 0 when the files equal what is in force, 1 when they differ (like diff(1))."""
    new = new_catalogue(settings, files, merge)
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
