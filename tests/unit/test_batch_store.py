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


class _Seeks:
    """A rocksdict database that notes where each key scan starts."""

    def __init__(self, db: Rdict) -> None:
        self.db, self.starts = db, []  # type: list[bytes]

    def keys(self, from_key: bytes) -> object:
        self.starts.append(from_key)
        return self.db.keys(from_key=from_key)

    def get(self, key: bytes) -> object:
        return self.db.get(key)

    def write(self, batch: object) -> None:
        self.db.write(batch)


def _fire_due(store: BatchStore, watermark: int) -> list[bytes]:
    """One batch as the runner does it: the timers due fired (deleted), then flushed."""
    due = store.due_keys(due_bound(watermark), 10_000)
    store.apply(dict.fromkeys(due))
    store.flush()
    return due


def test_scans_start_past_the_timers_already_fired(tmp_path: Path) -> None:
    # fired timers leave RocksDB tombstones at the front of the timer keys; a scan from the
    # prefix steps over all of them, so each batch's scan must start past those fired before
    db = _Seeks(Rdict(str(tmp_path / "db"), options=Options(raw_mode=True)))
    keys = [timer_key(T0 + minute * 60_000) for minute in range(30)]
    store = BatchStore(db)  # type: ignore[arg-type]
    store.apply(dict.fromkeys(keys, b"1"))
    store.flush()
    batches: list[list[bytes]] = []
    for minute in range(0, 30, 3):
        scans = len(db.starts)
        batches.append(_fire_due(store, T0 + minute * 60_000 + 1))
        if len(batches) > 1 and batches[-2]:
            # the scan steps over the previous batch's fired timers at most
            assert db.starts[scans] >= batches[-2][0]
    assert [k for batch in batches for k in batch] == keys[:28]
    assert db.starts[0] == b"\x00T" and db.starts[-1] > keys[21]  # not at the prefix
    db.db.close()


def test_a_timer_stored_below_the_floor_is_still_found(tmp_path: Path) -> None:
    db = Rdict(str(tmp_path / "db"), options=Options(raw_mode=True))
    store = BatchStore(db)
    late = timer_key(T0 + 10 * LOOKAHEAD_MS)
    store.apply({late: b"1"})
    store.flush()
    assert _fire_due(store, T0 + 11 * LOOKAHEAD_MS) == [late]  # the floor is past T0 now
    early = timer_key(T0 + 5)  # a timer due before the floor (an event time behind it)
    store.apply({early: b"1"})
    store.flush()
    assert _fire_due(store, T0 + 11 * LOOKAHEAD_MS) == [early]
    # nothing due: an empty scan moves the floor up, and a later timer is found above it
    assert _fire_due(store, T0 + 12 * LOOKAHEAD_MS) == []
    later = timer_key(T0 + 30 * LOOKAHEAD_MS)
    store.apply({later: b"1"})
    store.flush()
    assert _fire_due(store, T0 + 30 * LOOKAHEAD_MS) == [later]
    db.close()
