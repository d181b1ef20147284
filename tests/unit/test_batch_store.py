"""BatchStore: a batch's writes over a partition's RocksDB, read through, stored once."""

from __future__ import annotations

from pathlib import Path

from rocksdict import Options, Rdict

from cjo.timers import Timer, due_bound
from streams.batch_store import LOOKAHEAD_MS, BatchStore

T0 = 1_767_225_600_000


def timer_key(due: int, imsi: str = "234150000000001") -> bytes:
    return Timer(due, imsi, "t", "x").key()


def test_reads_see_the_batch_and_flush_stores_once(tmp_path: Path) -> None:
    db = Rdict(str(tmp_path / "db"), options=Options(raw_mode=True))
    db[b"kept"] = b"old"
    store = BatchStore(db)
    store.apply({b"kept": b"new", b"fresh": b"1"})
    store.apply({b"fresh": b"2"})
    assert store.get(b"kept") == b"new" and store.get(b"fresh") == b"2"
    assert db[b"kept"] == b"old"  # nothing stored before the flush
    changed = store.flush()
    assert sorted(changed) == [(b"fresh", b"2"), (b"kept", b"new")]
    assert (db[b"kept"], db[b"fresh"]) == (b"new", b"2")
    assert store.writes == {}
    db.close()


def test_due_timers_merge_stored_and_batch_and_skip_deleted(tmp_path: Path) -> None:
    db = Rdict(str(tmp_path / "db"), options=Options(raw_mode=True))
    stored_due, stored_later, fired = timer_key(T0 + 1), timer_key(T0 + 10 * LOOKAHEAD_MS), \
        timer_key(T0 + 2)
    for key in (stored_due, stored_later, fired):
        db[key] = b"1"
    store = BatchStore(db)
    new_due, new_late = timer_key(T0 + 3, "234150000000002"), timer_key(T0 + 99_999_999)
    store.apply({new_due: b"1", new_late: b"1", fired: None})
    bound = due_bound(T0 + 5)
    assert store.due_keys(bound, 10) == [stored_due, new_due]
    assert store.due_keys(bound, 1) == [stored_due]
    # a later, wider bound within the batch sees the stored timer it did not reach before
    assert stored_later in store.due_keys(due_bound(T0 + 11 * LOOKAHEAD_MS), 10)
    # a timer set and deleted within the batch is no change for the changelog
    store.apply({new_due: None})
    changed = dict(store.flush())
    assert new_due not in changed and changed[fired] is None and changed[new_late] == b"1"
    assert fired not in db and new_late in db
    db.close()
