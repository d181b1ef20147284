"""The `cjo` command. Each subcommand parses its flags and hands over to streams/ or adapters/.

Every command that talks to a broker first checks that one answers (one line if not); every path
a command reads or writes is checked before anything starts (one line if it cannot be used).
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import os
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import SecretStr, ValidationError

from cjo import __version__
from cjo.errors import CatalogueRejected, CjoError, ConfigError
from cjo.settings import Settings, unknown_variables
from cjo.stream_registry import CHANNELS

DESCRIPTION = """\
cjo turns telecom events (charging, location, usage) into timely offers: a catalogue of
triggers decides per subscriber, a contact policy guards the customer, offers go to channel
topics with every decision and its reasons on an audit topic.

Start here:
  cjo demo                                  everything in one process, on a bundled log
  cjo catalogue validate|try|apply FILES    write a trigger, see what it would do, publish it
  cjo broker / cjo worker / cjo replay LOG  the pieces one by one; then cjo explain IMSI

Settings are CJO_* environment variables (docs/settings.md); --broker overrides
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


def _start(text: str) -> int:
    """``--start``: epoch milliseconds of ``now`` (to the minute) or of an ISO date/time (UTC
    unless it names an offset)."""
    if text == "now":
        return int(time.time() // 60 * 60_000)
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected 'now' or a date/time such as 2026-01-01 or "
                                         f"2026-01-01T08:00, got {text!r}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp() * 1000)


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
    d.add_argument("--no-gateways", action="store_true",
                   help="without the loopback push service, SMTP relay and SMSC and their "
                   "gateways")
    d.add_argument("--kafka", action="store_true",
                   help="run on a single-node Apache Kafka instead of the embedded broker "
                   "(Java 17+; Maven the first time)")
    d.add_argument("--serve", action="store_true",
                   help="after the summary, keep the broker and the worker up, serving the live "
                   "dashboard (its URL is printed), until Ctrl-C")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="cjo", description=DESCRIPTION, allow_abbrev=False,
                                formatter_class=_TopHelpFormatter)
    p.add_argument("--version", action="version", version=f"cjo {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help, description=help, formatter_class=_HelpFormatter,
                              allow_abbrev=False)

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

    _simulate_parser(command("simulate", "write a deterministic simulated recorded log"))

    _report_parser(command("report", "holdout uplift per trigger and offer (from the decisions, "
                           "outcomes and responses topics)"))

    _evaluate_parser(command("evaluate", "judge a candidate catalogue or policy on logged "
                             "decisions (off-policy: IPS, SNIPS and doubly robust take-up, "
                             "95%% intervals)"))

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

    _gateway_parser(command("gateway", "hand one channel's offers to its endpoint (SMSC, mail "
                            "relay, push service) until SIGTERM/Ctrl-C; outcomes go to "
                            "cjo.offers.responses (docs/gateways.md)"))

    _operator_parsers(command)
    _dnc_parser(command("dnc", "the global do-not-contact list (compacted topic)"))

    _control_parser(command("control", "the control topics (catalogue, models, "
                            "do-not-contact)"))
    _catalogue_parser(command("catalogue", "write, check, try and publish trigger catalogues"))
    _schemas_parser(command("schemas", "check schemas/ against the previous release's"))
    return p


def _operator_parsers(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """``cjo tail`` and ``cjo state``: what the workers published, and what one holds."""
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


def _dnc_parser(dn: argparse.ArgumentParser) -> None:
    dn.add_argument("action", choices=["add", "remove"], help="block or unblock")
    dn.add_argument("imsis", nargs="+", help="IMSIs (5 to 15 digits)")
    dn.add_argument("--broker", help=BROKER_HELP)
    dn.set_defaults(run=_dnc)


def _control_parser(ct: argparse.ArgumentParser) -> None:
    ct.add_argument("action", choices=["purge"], help="purge: tombstone the record at OFFSET "
                    "(a refused one: its control_refused line names topic and offset)")
    ct.add_argument("topic", help="catalogue, models, dnc, or the topic's name")
    ct.add_argument("offset", type=int, help="the record's offset")
    ct.add_argument("--partition", type=int, default=0, help="its partition (default 0)")
    ct.add_argument("--broker", help=BROKER_HELP)
    ct.set_defaults(run=_control)


def _report_parser(rp: argparse.ArgumentParser) -> None:
    rp.add_argument("--broker", help=BROKER_HELP)
    rp.set_defaults(run=_report)


def _evaluate_parser(ev: argparse.ArgumentParser) -> None:
    ev.add_argument("decisions", type=Path, nargs="?", default=None, metavar="DECISIONS",
                    help="decisions as JSON lines (what --decisions writes; default: the "
                    "decisions topic)")
    ev.add_argument("--catalogue", type=Path, nargs="+", required=True, metavar="FILE",
                    help="the candidate catalogue's YAML files")
    ev.add_argument("--policy", choices=["thompson", "greedy", "uniform"], default="thompson",
                    help="how the candidate chooses among a trigger's offers")
    ev.add_argument("--outcomes", type=Path, default=None, metavar="FILE",
                    help="outcomes as JSON lines, with a DECISIONS file (default: the "
                    "outcomes topic)")
    ev.add_argument("--broker", help=BROKER_HELP)
    ev.set_defaults(run=_evaluate)


def _gateway_parser(g: argparse.ArgumentParser) -> None:
    g.add_argument("channel", choices=CHANNELS, help="the channel")
    g.add_argument("--broker", help=BROKER_HELP)
    g.set_defaults(run=_gateway)


def _simulate_parser(s: argparse.ArgumentParser) -> None:
    s.add_argument("--subscribers", type=int, default=100, help="how many subscribers")
    s.add_argument("--days", type=int, default=2, help="days of events")
    s.add_argument("--seed", type=int, default=7, help="random seed (same seed, same log)")
    s.add_argument("--out", type=Path, required=True, metavar="FILE",
                   help="file to write ('-': standard output); its directory must exist")
    s.add_argument("--start", type=_start, default="now", metavar="WHEN",
                   help="when the events begin, UTC: 'now' (for a live worker: nothing in it "
                   "is late), or a date or time such as 2026-01-01 or 2026-01-01T08:00 "
                   "(default: now, to the minute)")
    s.add_argument("--imsi-offset", type=int, default=0, metavar="N",
                   help="subscribers N+1 on: a second log with another offset shares nobody "
                   "with the first (whose state a running worker keeps)")


def _schemas_parser(group: argparse.ArgumentParser) -> None:
    sub = group.add_subparsers(dest="schemas_command", required=True, metavar="SUBCOMMAND")
    about = ("refuse an incompatible change from the previous release's schemas (exit 1, one "
             "line per problem)")
    c = sub.add_parser("check", help=about, description=about, formatter_class=_HelpFormatter,
                       allow_abbrev=False)
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
        return sub.add_parser(name, help=help, description=help, formatter_class=_HelpFormatter,
                              allow_abbrev=False)

    v = command("validate", "check catalogue files; every problem at file:line")
    v.add_argument("files", type=Path, nargs="+", help="YAML files, read as one catalogue")
    v.set_defaults(run=_catalogue_validate)

    sh = command("show", "the YAML of the catalogue in force (the live one, else what workers "
                 "run); with FILES, the triggers of those files instead")
    sh.add_argument("files", type=Path, nargs="*",
                    help="YAML files to describe (default: export the catalogue in force)")
    sh.add_argument("--out", type=Path, default=None, metavar="DIR",
                    help="write the catalogue in force as YAML files into DIR (to edit and "
                    "apply again)")
    sh.add_argument("--bundled", action="store_true",
                    help="describe the bundled catalogue (no broker needed)")
    sh.add_argument("--broker", help=BROKER_HELP)
    sh.set_defaults(run=_catalogue_show)

    a = command("apply", "validate, show what changes against the catalogue in force, then "
                "publish to the catalogue topic: every worker switches to it without a restart")
    a.add_argument("files", type=Path, nargs="+", help="YAML files, read as one catalogue")
    a.add_argument("--broker", help=BROKER_HELP)
    a.add_argument("--yes", action="store_true",
                   help="remove triggers without asking (for scripts; without a terminal "
                   "apply refuses to remove any otherwise)")
    a.add_argument("--merge", action="store_true",
                   help="add the files' triggers and venues to the catalogue in force (one "
                   "with the same id is replaced) instead of replacing the whole catalogue")
    a.set_defaults(run=_catalogue_apply)

    d = command("diff", "what applying these files would change against the catalogue in "
                "force (exit 1: changes)")
    d.add_argument("files", type=Path, nargs="+", help="YAML files, read as one catalogue")
    d.add_argument("--broker", help=BROKER_HELP)
    d.add_argument("--merge", action="store_true",
                   help="as apply --merge would change it (the files on top of what is in force)")
    d.set_defaults(run=_catalogue_diff)

    h = command("history", "every catalogue applied on the catalogue topic, by digest")
    h.add_argument("--broker", help=BROKER_HELP)
    h.set_defaults(run=_catalogue_history)

    rb = command("rollback", "apply again a catalogue applied earlier (see history)")
    rb.add_argument("digest", help="its digest, or a unique prefix of it")
    rb.add_argument("--broker", help=BROKER_HELP)
    rb.add_argument("--yes", action="store_true", help="remove triggers without asking")
    rb.set_defaults(run=_catalogue_rollback)

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


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """The arguments; an unknown flag is refused by its own command's parser (its usage, not
    the top level's), with the flag it most likely meant. Flags are never abbreviated:
    ``--partition`` is not taken for ``--partitions``."""
    parser = _parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        own = _own_parser(parser, args)
        flags = [f for action in own._actions for f in action.option_strings]
        hints = [f"{word} (did you mean {close[0]}?)" if (close := difflib.get_close_matches(
            word.split("=", 1)[0], flags, n=1, cutoff=0.6)) else word for word in unknown
            if word.startswith("-")]
        own.error(f"unrecognized arguments: {' '.join(hints or unknown)}")
    return args


def _own_parser(parser: argparse.ArgumentParser,
                args: argparse.Namespace) -> argparse.ArgumentParser:
    """The (sub)command parser that parsed ``args``: the deepest one chosen."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            chosen = getattr(args, action.dest or "", None)
            if chosen in action.choices:
                return _own_parser(action.choices[chosen], args)
    return parser


def _setting_problem(err: ValidationError) -> str:
    """``CJO_TIME_MODE='fast': Input should be 'live' or 'replay'``: the variable (or flag) as
    the user wrote it, its value, and why."""
    first = err.errors()[0]
    reason = str(first["msg"]).removeprefix("Value error, ")
    if not first["loc"]:  # a rule across settings: its message names them
        return reason
    name = ".".join(str(part) for part in first["loc"])
    value = first.get("input")
    field = Settings.model_fields.get(name)
    secret = field is not None and field.annotation is SecretStr
    shown = "=(hidden)" if secret else f"={value!r}" if isinstance(value, str | int | float) \
        else ""
    return f"CJO_{name.upper()}{shown}: {reason}"


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    for warning in unknown_variables(os.environ):
        print(warning, file=sys.stderr)
    try:
        return _dispatch(args)
    except ValidationError as err:
        print(f"cjo: invalid setting: {_setting_problem(err)}", file=sys.stderr)
    except BrokenPipeError:  # `cjo explain ... | head`: the reader left, nothing to say
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # the exit's flush must not fail again
        return 141  # as a process killed by SIGPIPE
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
        return int(run_simulate(args.subscribers, args.days, args.seed, args.out,
                                start_ms=args.start, imsi_offset=args.imsi_offset))
    if args.command in ("catalogue", "report", "evaluate", "explain", "respond", "dnc", "schemas",
                        "gateway", "control", "tail", "state"):
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
        gateways=not args.no_gateways, serve=args.serve))


def _catalogue_validate(args: argparse.Namespace) -> int:
    """Prints ``OK: ...`` and returns 0; a refused catalogue raises (main prints every problem
    on stderr and exits 1)."""
    from cjo.catalogue.catalogue import require_triggers
    from cjo.catalogue.validate import load_files
    from cjo.words import count

    catalogue = require_triggers(load_files(args.files))  # refused as apply would refuse it
    print(f"OK: {count(len(catalogue.triggers), 'trigger')} ({len(catalogue.enabled())} "
          f"enabled), {count(len(catalogue.venues), 'venue')}, digest {catalogue.digest}")
    return 0


def _catalogue_show(args: argparse.Namespace) -> int:
    from cjo.adapters.catalogue_commands import run_show
    from cjo.catalogue.describe import describe
    from cjo.catalogue.validate import default_catalogue, load_files

    if args.files or args.bundled:
        print(describe(load_files(args.files) if args.files else default_catalogue()))
        return 0
    if args.out is not None and not args.out.is_dir():
        raise ConfigError(f"--out {args.out}: not a directory (create it first)")
    return run_show(_broker_settings(broker=args.broker), args.out, out=sys.stdout)


def _catalogue_apply(args: argparse.Namespace) -> int:
    from cjo.adapters.catalogue_commands import run_apply
    from cjo.catalogue.validate import load_files

    load_files(args.files)  # a refused catalogue is said before the broker is asked
    return run_apply(_broker_settings(broker=args.broker), args.files, out=sys.stdout,
                     yes=args.yes, merge=args.merge)


def _catalogue_diff(args: argparse.Namespace) -> int:
    from cjo.adapters.catalogue_commands import run_diff
    from cjo.catalogue.validate import load_files

    load_files(args.files)  # a refused catalogue is said before the broker is asked
    return run_diff(_broker_settings(broker=args.broker), args.files, out=sys.stdout,
                    merge=args.merge)


def _catalogue_history(args: argparse.Namespace) -> int:
    from cjo.adapters.catalogue_commands import run_history

    return run_history(_broker_settings(broker=args.broker), out=sys.stdout)


def _catalogue_rollback(args: argparse.Namespace) -> int:
    from cjo.adapters.catalogue_commands import run_rollback

    return run_rollback(_broker_settings(broker=args.broker), args.digest, out=sys.stdout,
                        yes=args.yes)


def _catalogue_list(args: argparse.Namespace) -> int:
    from cjo.adapters.catalogue_commands import run_list

    return run_list(_broker_settings(broker=args.broker), out=sys.stdout)


def _catalogue_try(args: argparse.Namespace) -> int:
    from cjo.adapters.catalogue_commands import run_try

    return run_try(args.files, readable(args.log, "--log"), args.partitions, out=sys.stdout,
                   decisions=writable(args.decisions, "--decisions"),
                   explain_imsi=args.explain, last=args.last)


def _report(args: argparse.Namespace) -> int:
    from cjo.adapters.audit_commands import run_report

    return run_report(_broker_settings(broker=args.broker))


def _evaluate(args: argparse.Namespace) -> int:
    from cjo.adapters.evaluate_command import from_broker, read_jsonl, run_evaluate
    from cjo.catalogue.validate import load_files

    candidate = load_files(args.catalogue)
    name = ",".join(p.name for p in args.catalogue)
    if args.decisions is None:
        settings = _broker_settings(broker=args.broker)
        decisions, outcomes, scorer, current = from_broker(settings)
        return run_evaluate(candidate, name, args.policy, decisions, outcomes,
                            settings.topics["decisions"], scorer, current)
    decisions = read_jsonl(readable(args.decisions, "DECISIONS"), "decisions")
    if args.outcomes is None:
        raise ConfigError(f"{args.decisions}: a decisions file needs --outcomes FILE (the "
                          "rewards: Outcome records as JSON lines)")
    outcomes = read_jsonl(readable(args.outcomes, "--outcomes"), "outcomes")
    return run_evaluate(candidate, name, args.policy, decisions, outcomes, str(args.decisions))


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


def _gateway(args: argparse.Namespace) -> int:
    from cjo.adapters.gateways import channel_factory
    from cjo.adapters.gateways.runner import run_gateway

    make = channel_factory(args.channel)
    return run_gateway(make, _broker_settings(broker=args.broker))


def _dnc(args: argparse.Namespace) -> int:
    from cjo.adapters.control_topics import publish_dnc

    settings = _broker_settings(broker=args.broker)
    count = publish_dnc(settings, args.imsis, block=args.action == "add")
    verb = "blocked" if args.action == "add" else "unblocked"
    print(f"{verb} {count} subscriber(s) on {settings.topics['dnc']}")
    return 0


def _control(args: argparse.Namespace) -> int:
    from cjo import logs
    from cjo.adapters.control_topics import purge

    settings = _broker_settings(broker=args.broker)
    key = purge(settings, args.topic, args.offset, args.partition)
    print(f"purged: tombstoned key #{logs.hash_id(key.decode('utf-8', 'backslashreplace'))} "
          f"({len(key)} bytes) of the record at offset {args.offset} of {args.topic}; workers "
          "no longer read it, compaction removes it")
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
