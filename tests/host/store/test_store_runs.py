"""Rigs and runs: creation, updates, listing, and surviving a restart of the host."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
import sqlalchemy as sa

from host.store import InvalidRunUpdate, RigBusy, RigNotFound, RunNotFound, Store


def test_new_run_is_queued_with_its_params(store, run_id):
    run = store.get_run(run_id)
    assert (run.state, run.kind, run.rig, run.progress) == ("queued", "lifetime", "rig1", 0.0)
    assert run.params == {"voltage_v": 4.0}
    assert run.created_at.tzinfo is not None
    assert run.started_at is None and run.finished_at is None and run.summary is None


def test_run_on_unknown_rig_raises_rig_not_found(store):
    with pytest.raises(RigNotFound, match="nope"):
        store.create_run("nope", "lifetime", {})


def test_unknown_run_kind_is_rejected(store):
    store.upsert_rig("rig1", "sim:G1")
    with pytest.raises(ValueError, match="kind"):
        store.create_run("rig1", "bake", {})


def test_get_unknown_run_raises_run_not_found(store):
    with pytest.raises(RunNotFound, match="77"):
        store.get_run(77)


def test_running_stamps_started_at(store, run_id):
    run = store.update_run(run_id, state="running", board_id="e6614103e7452d2f")
    assert run.state == "running" and run.started_at is not None
    assert run.board_id == "e6614103e7452d2f"


def test_a_run_is_found_by_its_63_bit_key_and_shows_it_as_hex(store):
    store.upsert_rig("rig1", "sim:G1")
    key = 2**63 - 1
    run = store.create_run("rig1", "jvl", {}, run_key=key, board_id="00000000000000aa")
    assert store.get_run_by_key(key) == run
    assert store.get_run_by_key(key - 1) is None
    assert run.as_dict()["run_key"] == "7fffffffffffffff"
    assert run.as_dict()["board_id"] == "00000000000000aa" and run.imported is False


def test_two_runs_cannot_share_a_key(store):
    store.upsert_rig("rig1", "sim:G1")
    store.create_run("rig1", "jvl", {}, run_key=12345)
    with pytest.raises(sa.exc.IntegrityError):
        store.create_run("rig1", "jvl", {}, run_key=12345)


def test_an_imported_run_is_created_running(store):
    store.upsert_rig("rig1", "sim:G1")
    run = store.create_run("rig1", "photostability", {}, run_key=7, imported=True,
                           state="running")
    assert run.imported and run.state == "running" and run.started_at is not None


def test_interrupted_is_unfinished_and_can_still_end(store, run_id):
    store.update_run(run_id, state="running")
    store.update_run(run_id, state="interrupted")
    assert [r.id for r in store.unfinished_runs()] == [run_id]
    assert store.update_run(run_id, state="aborted").finished


def test_finishing_stamps_finished_at_and_keeps_summary(store, run_id):
    store.update_run(run_id, state="running")
    run = store.update_run(run_id, state="completed", progress=1.0,
                           summary={"t50_s": 3600.5, "t95_s": None})
    assert run.finished_at is not None and run.finished_at >= run.started_at
    assert store.get_run(run_id).summary == {"t50_s": 3600.5, "t95_s": None}


def test_update_changes_only_the_given_fields(store, run_id):
    store.update_run(run_id, progress=0.25, error="link lost")
    run = store.update_run(run_id, progress=0.5)
    assert (run.progress, run.error, run.state) == (0.5, "link lost", "queued")
    assert store.update_run(run_id, error=None).error is None


def test_finished_run_cannot_change_state(store, run_id):
    store.update_run(run_id, state="aborted")
    with pytest.raises(InvalidRunUpdate, match="aborted"):
        store.update_run(run_id, state="running")


def test_finished_run_takes_the_same_state_and_a_late_summary(store, run_id):
    store.update_run(run_id, state="completed")
    run = store.update_run(run_id, state="completed", summary={"t50_s": 1.0})
    assert run.state == "completed" and run.summary == {"t50_s": 1.0}


def test_progress_outside_zero_to_one_is_rejected(store, run_id):
    with pytest.raises(InvalidRunUpdate, match="progress"):
        store.update_run(run_id, progress=1.5)


def test_unknown_state_is_rejected(store, run_id):
    with pytest.raises(InvalidRunUpdate, match="resting"):
        store.update_run(run_id, state="resting")


def test_summary_nan_is_stored_as_null(store, run_id):
    store.update_run(run_id, summary={"t50_s": float("nan"), "n": np.int64(3)})
    assert store.get_run(run_id).summary == {"t50_s": None, "n": 3}


def test_explicit_timestamps_are_kept_in_utc(store, run_id):
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    run = store.update_run(run_id, started_at=when)
    assert run.started_at == when and run.started_at.utcoffset() == timedelta(0)


def test_naive_timestamp_is_refused(store, run_id):
    with pytest.raises(Exception, match="naive"):
        store.update_run(run_id, started_at=datetime(2026, 1, 1))


def test_list_runs_is_newest_first_with_filters(store):
    store.upsert_rig("rig1", "sim:G1")
    store.upsert_rig("rig2", "sim:film")
    a = store.create_run("rig1", "lifetime", {}).id
    b = store.create_run("rig2", "photostability", {}).id
    c = store.create_run("rig1", "jvl", {}).id
    store.update_run(c, state="running")
    assert [r.id for r in store.list_runs()] == [c, b, a]
    assert [r.id for r in store.list_runs(rig="rig1")] == [c, a]
    assert [r.id for r in store.list_runs(state="running")] == [c]
    assert [r.id for r in store.list_runs(state=["queued", "running"], rig="rig1")] == [c, a]
    assert [r.id for r in store.list_runs(kind="photostability")] == [b]
    assert [r.id for r in store.list_runs(limit=2)] == [c, b]


def test_unfinished_runs_are_queued_and_running_oldest_first(store):
    store.upsert_rig("rig1", "sim:G1")
    ids = [store.create_run("rig1", "lifetime", {}).id for _ in range(4)]
    store.update_run(ids[0], state="running")
    store.update_run(ids[1], state="failed", error="interlock")
    store.update_run(ids[3], state="running")
    assert [r.id for r in store.unfinished_runs()] == [ids[0], ids[2], ids[3]]


def test_upsert_rig_keeps_firmware_when_not_given(store):
    first = store.upsert_rig("rig1", "sim:G1", {"fw": "1.0.0", "board_id": 42})
    again = store.upsert_rig("rig1", "/dev/ttyACM0")
    assert again.firmware == {"fw": "1.0.0", "board_id": 42}
    assert again.spec == "/dev/ttyACM0"
    assert again.first_seen == first.first_seen and again.last_seen >= first.last_seen
    assert [r.name for r in store.list_rigs()] == ["rig1"]


def test_get_unknown_rig_raises_rig_not_found(store):
    with pytest.raises(RigNotFound):
        store.get_rig("rig9")


def test_run_and_samples_survive_reopening_the_store(store_url, make_samples):
    with Store(store_url) as first:
        first.upsert_rig("rig1", "sim:G1")
        run_id = first.create_run("rig1", "lifetime", {"voltage_v": 5.0}).id
        first.update_run(run_id, state="running", progress=0.3)
        first.insert_samples(run_id, make_samples(np.arange(100)))
    with Store(store_url) as second:
        run = second.get_run(run_id)
        assert (run.state, run.progress, run.params) == ("running", 0.3, {"voltage_v": 5.0})
        assert [r.id for r in second.unfinished_runs()] == [run_id]
        assert list(second.read_samples(run_id, columns=("t_s",))["seq"]) == list(range(100))
        assert second.insert_samples(run_id, make_samples(np.arange(90, 110))) == 10


def test_run_as_dict_is_json_ready(store, run_id):
    import json

    data = json.loads(json.dumps(store.get_run(run_id).as_dict()))
    assert data["id"] == run_id and data["state"] == "queued"
    assert datetime.fromisoformat(data["created_at"]).tzinfo is not None


def _start_at_once(stores: tuple[Store, ...]) -> list[object]:
    """Each store creates an exclusive run on rig1 at the same moment: the runs or RigBusy."""
    barrier = threading.Barrier(len(stores))
    outcomes: list[object] = []

    def start(store: Store) -> None:
        barrier.wait()
        try:
            outcomes.append(store.create_run("rig1", "lifetime", {}, exclusive=True))
        except RigBusy as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=start, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_of_two_stores_racing_to_start_on_one_rig_one_wins(store_url):
    """Two services on one database (two stores, two connections) start on one rig at the
    same moment, twenty times: one start each time, the other is told the rig is busy."""
    with Store(store_url) as first, Store(store_url) as second:
        first.upsert_rig("rig1", "sim:G1")
        for _ in range(20):
            outcomes = _start_at_once((first, second))
            started = [o for o in outcomes if not isinstance(o, RigBusy)]
            busy = [o for o in outcomes if isinstance(o, RigBusy)]
            assert len(started) == 1 and len(busy) == 1, outcomes
            assert busy[0].run_id == started[0].id
            first.update_run(started[0].id, state="aborted")
        assert len(first.list_runs()) == 20


def test_an_exclusive_start_is_refused_on_a_busy_channel_only(store_url):
    """A board of cards runs a run per channel: the store refuses a second unfinished run on
    one channel of a rig, naming the channel, and takes one on another."""
    with Store(store_url) as store:
        store.upsert_rig("rig1", "sim:G1")
        on_0 = store.create_run("rig1", "lifetime", {}, exclusive=True)
        on_2 = store.create_run("rig1", "lifetime", {}, exclusive=True, channel=2)
        with pytest.raises(RigBusy, match=r"^rig rig1 channel 2 is busy with run %d \(queued\)$"
                           % on_2.id):
            store.create_run("rig1", "lifetime", {}, exclusive=True, channel=2)
        with pytest.raises(RigBusy, match=r"^rig rig1 is busy with run %d" % on_0.id):
            store.create_run("rig1", "lifetime", {}, exclusive=True)
        store.update_run(on_2.id, state="aborted")
        assert store.create_run("rig1", "lifetime", {}, exclusive=True, channel=2).channel == 2
