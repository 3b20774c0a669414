"""Events and calibrations: round trips, a repeated device event kept once, history kept."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from host.store import RigNotFound, RunNotFound


def test_event_round_trips(store, run_id):
    when = datetime(2026, 3, 4, 5, 6, 7, 890000, tzinfo=UTC)
    event = store.add_event("safe_stop", "interlock opened", rig="rig1", run_id=run_id,
                            code=5, data={"reason": "interlock", "t_s": 12.5}, t=when)
    assert event is not None
    [back] = store.list_events(run_id=run_id)
    assert back == event
    assert (back.name, back.code, back.t, back.data) == ("safe_stop", 5, when,
                                                         {"reason": "interlock", "t_s": 12.5})


def test_event_without_run_belongs_to_its_rig(store):
    store.add_event("boot", rig="rig1", code=1)
    store.add_event("boot", rig="rig2", code=1)
    assert [e.rig for e in store.list_events(rig="rig2")] == ["rig2"]
    assert store.list_events(rig="rig2")[0].run_id is None


def test_event_with_a_known_key_is_kept_once(store, run_id):
    assert store.add_event("host_lost", rig="rig1", run_id=run_id, key="boot7:12") is not None
    assert store.add_event("host_lost", rig="rig1", run_id=run_id, key="boot7:12") is None
    assert len(store.list_events(run_id=run_id)) == 1


def test_events_without_key_are_all_kept(store):
    store.add_event("link_gap", rig="rig1")
    store.add_event("link_gap", rig="rig1")
    assert len(store.list_events(rig="rig1")) == 2


def test_events_list_oldest_first_and_after_id(store, run_id):
    ids = [store.add_event(f"e{i}", rig="rig1", run_id=run_id).id for i in range(5)]
    assert [e.id for e in store.list_events(run_id=run_id)] == ids
    assert [e.id for e in store.list_events(run_id=run_id, after_id=ids[2])] == ids[3:]
    assert [e.id for e in store.list_events(run_id=run_id, limit=2)] == ids[:2]


def test_event_for_unknown_run_raises_run_not_found(store):
    with pytest.raises(RunNotFound):
        store.add_event("boot", run_id=404)


def test_calibration_round_trips(store):
    store.upsert_rig("rig1", "sim:G1")
    cal = {"pd_amps_per_cd_m2": 1.25e-9, "dark_a": [1e-12, 2e-12], "spectrum": None}
    store.set_calibration("rig1", cal)
    assert store.get_calibration("rig1") == cal


def test_rig_without_calibration_has_none(store):
    store.upsert_rig("rig1", "sim:G1")
    assert store.get_calibration("rig1") is None


def test_the_newest_calibration_is_current(store):
    store.upsert_rig("rig1", "sim:G1")
    store.set_calibration("rig1", {"gain": 1})
    store.set_calibration("rig1", {"gain": 2})
    assert store.get_calibration("rig1") == {"gain": 2}


def test_run_keeps_the_calibration_it_started_with(store):
    store.upsert_rig("rig1", "sim:G1")
    store.set_calibration("rig1", {"gain": 1})
    run_id = store.create_run("rig1", "lifetime", {}).id
    store.set_calibration("rig1", {"gain": 2})
    assert store.get_run(run_id).calibration == {"gain": 1}


def test_calibration_of_unknown_rig_raises_rig_not_found(store):
    with pytest.raises(RigNotFound):
        store.set_calibration("rig5", {"gain": 1})
