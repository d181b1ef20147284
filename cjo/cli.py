"""The `cjo` command. Each subcommand parses its flags and hands over to streams/ or adapters/.

Every command that talks to a broker first checks that one answers (one line if not); every path
a command reads or writes is checked before anything starts (one line if it cannot be used).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from cjo import __version__
from cjo.errors import CatalogueRejected, CjoError, ConfigError

if TYPE_CHECKING:
    from cjo.settings import Settings

DESCRIPTION = """\
cjo turns telecom events (charging, location, usage) into timely offers: a catalogue of
triggers decides per subscriber, a contact policy guards the customer, offers go to channel
topics with every decision and its reasons on an audit topic.

Start here:
  cjo demo                                  everything in one process, on a bundled log
  cjo catalogue validate|try|apply FILES    write a trigger, see what it would do, publish it
  cjo broker / cjo worker / cjo replay LOG  the pieces one by one; then cjo explain IMSI

Settings are CJO_* environment variables (README.md, "Settings"); --broker overrides
CJO_BROKER (default 127.0.0.1:9092, where `cjo broker` listens when that port is free)."""
BROKER_HELP = "bootstrap servers host:port[,...] (default: CJO_BROKER, else 127.0.0.1:9092)"


class _HelpFormatter(argparse.HelpFormatter):
    """Shows ``(default: X)`` after a flag's help when it has a real default not yet named."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if ("default" not in text and action.default not in (None, False, argparse.SUPPRESS)
                and action.option_strings and action.nargs != 0):
            text += " (default: %(default)s)"
        return text


class _TopHelpFormatter(_HelpFormatter, argparse.RawDescriptionHelpFormatter):
    """The top-level description keeps its line breaks."""


def _speed(text: str) -> float | None:
    if text == "max":
        return None
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or 'max', got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("speed must be > 0")
    return value


def _broker_arguments(b: argparse.ArgumentParser) -> None:
    b.add_argument("--port", type=int, default=None,
                   help="loopback port (default: 9092 when free, else a free one; the line to "
                   "export is printed)")
    b.add_argument("--kafka", action="store_true",
                   help="a single-node Apache Kafka (KRaft) instead: needs Java 17+, and Maven "
                   "the first time (its jars are cached)")
    b.add_argument("--data-dir", type=Path, default=None, metavar="DIR",
                   help="with --kafka: keep the broker's data here across restarts (default: a "
                   "temporary directory, removed at stop)")


def _demo_arguments(d: argparse.ArgumentParser) -> None:
    d.add_argument("--events", type=Path, default=None, metavar="FILE",
                   help="recorded log (default: the bundled sample)")
    d.add_argument("--catalogue", type=Path, nargs="+", default=None, metavar="FILE",
                   help="catalogue YAML files (default: CJO_CATALOGUE, else the bundled one)")
    d.add_argument("--out", type=Path, default=None, metavar="FILE",
                   help="write every offer as a JSON line")
    d.add_argument("--decisions", type=Path, default=None, metavar="FILE",
                   help="write every decision, with its reasons, as a JSON line")
    d.add_argument("--partitions", type=int, default=8, help="partitions of the demo's topics")
    d.add_argument("--timeout", type=float, default=600.0,
                   help="seconds to wait for the worker")
    d.add_argument("--speed", type=_speed, default=None,
                   help="replay pace: N times event time, or 'max' (default: max)")
    d.add_argument("--verbose", action="store_true",
                   help="also print the replay's end offset per topic partition")
    d.add_argument("--kafka", action="store_true",
                   help="run on a single-node Apache Kafka instead of the embedded broker "
                   "(Java 17+; Maven the first time)")
    d.add_argument("--serve", action="store_true",
                   help="after the summary, keep the broker and the worker up, serving the live "
                   "dashboard (its URL is printed), until Ctrl-C")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="cjo", description=DESCRIPTION,
                                formatter_class=_TopHelpFormatter)
    p.add_argument("--version", action="version", version=f"cjo {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help, description=help, formatter_class=_HelpFormatter)

    _broker_arguments(command("broker", "run a local broker until Ctrl-C: the embedded "
                              "Kafka-protocol broker (Tansu), or Apache Kafka with --kafka"))

    w = command("worker", "run a stream worker until SIGTERM/Ctrl-C (settings from CJO_* "
                "variables)")
    w.add_argument("--broker", help=BROKER_HELP)
    w.add_argument("--partitions", type=int,
                   help="partitions of created topics (default: CJO_PARTITIONS, else 8)")
    w.add_argument("--data-dir", type=Path,
                   help="RocksDB directory (default: CJO_DATA_DIR, else ./data)")
    w.add_argument("--web-port", type=int,
                   help="faust web port (default: CJO_WEB_PORT, else 0 = a free one)")

    r = command("replay", "produce a recorded log (JSON Lines) into the input topics")
    r.add_argument("file", type=Path, help="the recorded log")
    r.add_argument("--speed", type=_speed, default=None,
                   help="N times event time, or 'max' (default: max)")
    r.add_argument("--broker", help=BROKER_HELP)

    d = command("demo", "broker + worker + a recorded log replayed, in one go; decisions "
                "summarised with their reasons, offers printed")
    _demo_arguments(d)

    s = command("simulate", "write a deterministic simulated recorded log")
    s.add_argument("--subscribers", type=int, default=100, help="how many subscribers")
    s.add_argument("--days", type=int, default=2, help="days of events")
    s.add_argument("--seed", type=int, default=7, help="random seed (same seed, same log)")
    s.add_argument("--out", type=Path, required=True, metavar="FILE",
                   help="file to write ('-': standard output); its directory must exist")

    rp = command("report", "holdout uplift per trigger and offer (from the decisions, "
                 "outcomes and responses topics)")
    rp.add_argument("--broker", help=BROKER_HELP)
    rp.set_defaults(run=_report)

    e = command("explain", "one subscriber's decisions, newest first, with reasons, scores "
                "and outcomes")
    e.add_argument("imsi", help="the subscriber's IMSI (5 to 15 digits)")
    e.add_argument("--broker", help=BROKER_HELP)
    e.add_argument("--last", type=int, default=20, help="how many decisions to show")
    e.set_defaults(run=_explain)

    rs = command("respond", "a simulated population answering published offers by hidden "
                 "propensities (closes the learning loop in a demo)")
    rs.add_argument("--broker", help=BROKER_HELP)
    rs.add_argument("--seed", type=int, default=7, help="random seed of the answers")
    rs.add_argument("--every", type=float, default=5.0, help="seconds between rounds")
    rs.add_argument("--once", action="store_true", help="answer what is there, then exit")
    rs.set_defaults(run=_respond)

    _operator_parsers(command)

    _catalogue_parser(command("catalogue", "write, check, try and publish trigger catalogues"))
    _schemas_parser(command("schemas", "check schemas/ against the previous release's"))
    return p


def _operator_parsers(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """``cjo tail``, ``cjo state`` and ``cjo dnc``: what the workers published, what one holds,
    and who may not be contacted."""
    t = command("tail", "the offers, decisions or dead letters as readable lines (the last "
                "few, then new ones with --follow)")
    t.add_argument("what", choices=["offers", "decisions", "dlq"], help="which topic(s)")
    t.add_argument("--follow", "-f", action="store_true", help="keep showing new records "
                   "until Ctrl-C")
    t.add_argument("--last", type=int, default=20, help="how many of those there to show")
    t.add_argument("--broker", help=BROKER_HELP)
    t.set_defaults(run=_tail)

    st = command("state", "a subscriber's state as the worker owning her partition holds it "
                 "(consents, profile, counters against the thresholds that read them, caps "
                 "spent, timers)")
    st.add_argument("imsi", help="the subscriber's IMSI (5 to 15 digits)")
    st.add_argument("--worker", default=None, metavar="URL",
                    help="any worker's web URL (default: CJO_WEB_URL, else "
                    "http://127.0.0.1:CJO_WEB_PORT)")
    st.set_defaults(run=_state)

    dn = command("dnc", "the global do-not-contact list (compacted topic)")
    dn.add_argument("action", choices=["add", "remove"], help="block or unblock")
    dn.add_argument("imsis", nargs="+", help="IMSIs (5 to 15 digits)")
    dn.add_argument("--broker", help=BROKER_HELP)
    dn.set_defaults(run=_dnc)


def _schemas_parser(group: argparse.ArgumentParser) -> None:
    sub = group.add_subparsers(dest="schemas_command", required=True, metavar="SUBCOMMAND")
    about = ("refuse an incompatible change from the previous release's schemas (exit 1, one "
             "line per problem)")
    c = sub.add_parser("check", help=about, description=about, formatter_class=_HelpFormatter)
    c.add_argument("--current", type=Path, default=None,
                   help="schema directory (default: the schemas/ cjo runs with)")
    c.add_argument("--previous", type=Path, default=None,
                   help="the previous release's (default: schemas/previous/)")
    c.set_defaults(run=_schemas_check)


Command = Callable[[argparse.Namespace], int]


def _catalogue_parser(group: argparse.ArgumentParser) -> None:
    """``cjo catalogue SUBCOMMAND``: each subcommand is a parser here plus one ``_catalogue_*``
    function, attached with ``set_defaults(run=...)``."""
    sub = group.add_subparsers(dest="catalogue_command", required=True, metavar="SUBCOMMAND")

    def command(name: str, help: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help, description=help, formatter_class=_HelpFormatter)

    v = command("validate", "check catalogue files; every problem at file:line")
    v.add_argument("files", type=Path, nargs="+", help="YAML files, read as one catalogue")
    v.set_defaults(run=_catalogue_validate)

    sh = command("show", "the triggers of catalogue files (default: the bundled one)")
    sh.add_argument("files", type=Path, nargs="*", help="YAML files (default: bundled)")
    sh.set_defaults(run=_catalogue_show)

    a = command("apply", "validate, show what changes against the catalogue in force, then "
                "publish to the catalogue topic: every worker switches to it without a restart")
    a.add_argument("files", type=Path, nargs="+", help="YAML files, read as one catalogue")
    a.add_argument("--broker", help=BROKER_HELP)
    a.add_argument("--yes", action="store_true",
                   help="remove triggers without asking (for scripts; without a terminal "
                   "apply refuses to remove any otherwise)")
    a.set_defaults(run=_catalogue_apply)

    d = command("diff", "what applying these files would change against the catalogue in "
                "force (exit 1: changes)")
    d.add_argument("files", type=Path, nargs="+", help="YAML files, read as one catalogue")
    d.add_argument("--broker", help=BROKER_HELP)
    d.set_defaults(run=_catalogue_diff)

    ls = command("list", "the live catalogue (what the workers run)")
    ls.add_argument("--broker", help=BROKER_HELP)
    ls.set_defaults(run=_catalogue_list)

    t = command("try", "run a recorded log through these files in process (no broker): what "
                "each trigger would have decided, and why")
    t.add_argument("files", type=Path, nargs="+", help="YAML files, read as one catalogue")
    t.add_argument("--log", type=Path, required=True, metavar="FILE",
                   help="recorded log (JSON Lines)")
    t.add_argument("--partitions", type=int, default=1, help="partitions to spread it over")
    t.add_argument("--decisions", type=Path, default=None, metavar="FILE",
                   help="write every decision, with its reasons, as a JSON line")
    t.add_argument("--explain", default=None, metavar="IMSI",
                   help="also show this subscriber's decisions as `cjo explain` does")
    t.add_argument("--last", type=int, default=20, help="decisions shown by --explain")
    t.set_defaults(run=_catalogue_try)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _dispatch(args)
    except ValidationError as err:
        print(f"cjo: invalid setting: {err.errors()[0]['loc']}: {err.errors()[0]['msg']}",
              file=sys.stderr)
    except CatalogueRejected as err:
        for problem in err.problems:
            print(problem, file=sys.stderr)
        return 1
    except CjoError as err:
        print(f"cjo: {err}", file=sys.stderr)
    except OSError as err:  # a path the checks below did not foresee (a race, a full disk)
        where = f"{err.filename}: " if err.filename else ""
        print(f"cjo: {where}{err.strerror or err}", file=sys.stderr)
    except KeyboardInterrupt:
        print("cjo: interrupted", file=sys.stderr)
        return 130
    return 2


def _simulator(command: str, module: str = "sim") -> Any:
    """The simulator (``sim/``): a development tool, in a checkout's editable install (what
    ``make`` builds), not in the wheel or the image; ConfigError in one line where it is absent."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as error:
        if (error.name or "").partition(".")[0] != "sim":
            raise
        raise ConfigError(f"cjo {command} needs the simulator (sim/), which only a development "
                          "install has: in a checkout, run make (or pip install -e .)") from None


def readable(path: Path, what: str) -> Path:
    """``path`` when it is a file cjo can read; otherwise ConfigError in one line."""
    if not path.exists():
        raise ConfigError(f"{what} {path}: no such file")
    if path.is_dir():
        raise ConfigError(f"{what} {path}: is a directory, not a file")
    if not os.access(path, os.R_OK):
        raise ConfigError(f"{what} {path}: not readable (permission denied)")
    return path


def writable(path: Path | None, what: str) -> Path | None:
    """``path`` (or None, or ``-``) when a file can be written there; otherwise ConfigError in
    one line. A missing directory is an error, not created: a typo should not go unnoticed."""
    if path is None or str(path) == "-":
        return path
    parent = path.parent
    if not parent.is_dir():
        raise ConfigError(f"{what} {path}: directory {parent} does not exist (create it first)")
    if path.is_dir():
        raise ConfigError(f"{what} {path}: is a directory, not a file")
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise ConfigError(f"{what} {path}: not writable (permission denied)")
    return path


def state_dir(path: Path) -> Path:
    """``path`` when the worker can keep its RocksDB tables there (created if missing);
    otherwise ConfigError in one line."""
    if path.exists() and not path.is_dir():
        raise ConfigError(f"data directory {path}: is a file, not a directory (CJO_DATA_DIR "
                          f"or --data-dir)")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ConfigError(f"data directory {path}: cannot be created: {err.strerror}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise ConfigError(f"data directory {path}: not writable (permission denied)")
    return path


def _broker_settings(**overrides: object) -> Settings:
    """Settings, once a broker answers at their address (one line within seconds if none)."""
    from cjo.adapters.kafka_admin import probe
    from cjo.settings import load

    settings = load(**overrides)
    probe(settings.broker)
    return settings


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "broker":
        from cjo.adapters.broker import run_broker

        return run_broker(args.port, kafka=args.kafka, data_dir=args.data_dir)
    if args.command == "worker":
        from cjo.settings import load, refuse_public_defaults

        refuse_public_defaults(load())  # before faust is even imported
        from streams.worker import run_worker

        state_dir(load(data_dir=args.data_dir).data_dir)
        return run_worker(_broker_settings(broker=args.broker, partitions=args.partitions,
                                           data_dir=args.data_dir, web_port=args.web_port))
    if args.command == "replay":
        from cjo.adapters.replay import run_replay

        readable(args.file, "recorded log")
        settings = _broker_settings(broker=args.broker)
        return run_replay(args.file, settings.broker, settings.topics, args.speed,
                          partitions=settings.partitions)
    if args.command == "demo":
        return _demo(args)
    if args.command == "simulate":
        run_simulate = _simulator("simulate").run_simulate
        writable(args.out, "--out")
        return int(run_simulate(args.subscribers, args.days, args.seed, args.out))
    if args.command in ("catalogue", "report", "explain", "respond", "dnc", "schemas", "tail",
                        "state"):
        run: Command = args.run
        return run(args)
    raise AssertionError(args.command)


def _demo(args: argparse.Namespace) -> int:
    from cjo.adapters.demo import DemoOptions, run_demo, sample_log

    return run_demo(DemoOptions(
        events=readable(args.events, "--events") if args.events else sample_log(),
        out=writable(args.out, "--out"), decisions=writable(args.decisions, "--decisions"),
        catalogue=tuple(args.catalogue or ()), partitions=args.partitions,
        timeout_s=args.timeout, speed=args.speed, verbose=args.verbose, kafka=args.kafka,
        serve=args.serve))


def _catalogue_validate(args: argparse.Namespace) -> int:
    """Prints ``OK: ...`` and returns 0; a refused catalogue raises (main prints every problem
    on stderr and exits 1)."""
    from cjo.catalogue.validate import load_files

    catalogue = load_files(args.files)
    print(f"OK: {len(catalogue.triggers)} triggers ({len(catalogue.enabled())} enabled), "
          f"{len(catalogue.venues)} venues, digest {catalogue.digest}")
    return 0


def _catalogue_show(args: argparse.Namespace) -> int:
    from cjo.catalogue.describe import describe
    from cjo.catalogue.validate import default_catalogue, load_files

    print(describe(load_files(args.files) if args.files else default_catalogue()))
    return 0


def _catalogue_apply(args: argparse.Namespace) -> int:
    from cjo.adapters.catalogue_commands import run_apply
    from cjo.catalogue.validate import load_files

    load_files(args.files)  # a refused catalogue is said before the broker is asked
    return run_apply(_broker_settings(broker=args.broker), args.files, yes=args.yes)


def _catalogue_diff(args: argparse.Namespace) -> int:
    from cjo.adapters.catalogue_commands import run_diff
    from cjo.catalogue.validate import load_files

    load_files(args.files)  # a refused catalogue is said before the broker is asked
    return run_diff(_broker_settings(broker=args.broker), args.files)


def _catalogue_list(args: argparse.Namespace) -> int:
    from cjo.adapters.catalogue_commands import run_list

    return run_list(_broker_settings(broker=args.broker))


def _catalogue_try(args: argparse.Namespace) -> int:
    from cjo.adapters.catalogue_commands import run_try

    return run_try(args.files, readable(args.log, "--log"), args.partitions,
                   decisions=writable(args.decisions, "--decisions"),
                   explain_imsi=args.explain, last=args.last)


def _report(args: argparse.Namespace) -> int:
    from cjo.adapters.audit_commands import run_report

    return run_report(_broker_settings(broker=args.broker))


def _explain(args: argparse.Namespace) -> int:
    from cjo.adapters.audit_commands import check_imsi, run_explain

    check_imsi(args.imsi)
    return run_explain(_broker_settings(broker=args.broker), args.imsi, args.last)


def _tail(args: argparse.Namespace) -> int:
    from cjo.adapters.tail import run_tail

    return run_tail(_broker_settings(broker=args.broker), args.what, max(args.last, 0),
                    args.follow)


def _state(args: argparse.Namespace) -> int:
    from cjo.adapters.audit_commands import check_imsi
    from cjo.adapters.state_command import run_state, worker_url
    from cjo.settings import load

    check_imsi(args.imsi)
    settings = load()
    return run_state(worker_url(args.worker, settings.web_url, settings.web_port), args.imsi)


def _respond(args: argparse.Namespace) -> int:
    run_responder = _simulator("respond", "sim.kafka_responder").run_responder
    return int(run_responder(_broker_settings(broker=args.broker), args.seed, args.every,
                             args.once))


def _dnc(args: argparse.Namespace) -> int:
    from cjo.adapters.control_topics import publish_dnc

    settings = _broker_settings(broker=args.broker)
    count = publish_dnc(settings, args.imsis, block=args.action == "add")
    verb = "blocked" if args.action == "add" else "unblocked"
    print(f"{verb} {count} subscriber(s) on {settings.topics['dnc']}")
    return 0


def _schemas_check(args: argparse.Namespace) -> int:
    """Prints ``OK: ...`` and returns 0, or every incompatible change on stderr and returns 1."""
    from cjo.codec.evolution import PREVIOUS_RELEASE, check_release

    try:
        problems = check_release(args.current, args.previous)
    except ValueError as err:
        print(f"cjo: {err}", file=sys.stderr)
        return 2
    for problem in problems:
        print(f"incompatible: {problem}", file=sys.stderr)
    if problems:
        return 1
    against = f"release {PREVIOUS_RELEASE}" if args.previous is None else str(args.previous)
    print(f"OK: schemas compatible with {against}")
    return 0
