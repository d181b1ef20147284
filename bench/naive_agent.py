"""Row 2, the baseline: the Faust app most people write, run as a child process.

One agent over the input topics; per event: decode (``cjo.codec.decode``), one table read, one
table write (a small JSON value per subscriber: events seen, last event time). Faust's defaults
everywhere, except what a run on this machine needs: the broker, the data directory, a free web
port, the partition count, and a short session timeout (the embedded broker holds a group join
for half of it; it is excluded from the timing anyway).

Run by the bench as ``python -m bench.naive_agent`` with its settings in
``CJO_BENCH_*`` environment variables (see :func:`naive_env`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

APP_ENV = ("CJO_BENCH_BROKER", "CJO_BENCH_APP_ID", "CJO_BENCH_TOPICS", "CJO_BENCH_PARTITIONS",
           "CJO_BENCH_DATA_DIR", "CJO_BENCH_WEB_PORT")


def naive_env(broker: str, app_id: str, topics: Sequence[str], partitions: int, data_dir: Path,
              web_port: int) -> dict[str, str]:
    values = (broker, app_id, ",".join(topics), str(partitions), str(data_dir), str(web_port))
    return dict(zip(APP_ENV, values, strict=True))


def create_app(env: dict[str, str]) -> Any:
    import faust  # noqa: PLC0415 (only the child process needs faust)

    from cjo import codec  # noqa: PLC0415
    from cjo.adapters.kafka_security import faust_security  # noqa: PLC0415

    app = faust.App(
        env["CJO_BENCH_APP_ID"],
        broker=f"kafka://{env['CJO_BENCH_BROKER']}",
        store="rocksdb://",
        datadir=env["CJO_BENCH_DATA_DIR"],
        topic_partitions=int(env["CJO_BENCH_PARTITIONS"]),
        web_port=int(env["CJO_BENCH_WEB_PORT"]),
        web_bind="127.0.0.1",
        broker_session_timeout=10.0,
        **faust_security(),
    )
    source = app.topic(*env["CJO_BENCH_TOPICS"].split(","), key_serializer="raw",
                       value_serializer="raw")
    table = app.Table("naive-state", default=dict)

    @app.agent(source)
    async def count(stream: Any) -> None:
        async for key, value in stream.items():
            _, record = codec.decode(value)
            imsi = key.decode()
            state = table[imsi]
            table[imsi] = {"n": state.get("n", 0) + 1,
                           "last": record.get("event_time") or record.get("updated_at")}

    return app


def main() -> None:
    import faust  # noqa: PLC0415

    app = create_app(dict(os.environ))
    faust.Worker(app, loglevel="INFO", quiet=True).execute_from_commandline()


if __name__ == "__main__":
    main()
