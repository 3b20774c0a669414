"""Test sequences in the store: their state, their place, their runs; a paused run."""

from __future__ import annotations

import pytest

from host.store import InvalidRunUpdate, RigBusy, SequenceNotFound


@pytest.fixture
def sequence(store):
    store.upsert_rig("rig1", "sim:G1")
    return store.create_sequence("rig1", 0, {"steps": [{"kind": "jvl"}]})


def test_a_new_sequence_is_queued_at_its_first_step(store, sequence):
    got = store.get_sequence(sequence.id)
    assert (got.state, got.step_index, got.cursor, got.spec) == (
        "queued", 0, {}, {"steps": [{"kind": "jvl"}]})
    assert got.started_at is None and got.finished_at is None


def test_running_and_ending_stamp_the_times_and_an_ended_one_stays(store, sequence):
    running = store.update_sequence(sequence.id, state="running", step_index=1,
                                    cursor={"phase": "checkup", "fractions_done": [0.8]})
    assert running.started_at is not None and running.cursor["fractions_done"] == [0.8]
    done = store.update_sequence(sequence.id, state="completed")
    assert done.finished_at is not None and not running.finished and done.finished
    with pytest.raises(InvalidRunUpdate, match="already completed"):
        store.update_sequence(sequence.id, state="running")
    with pytest.raises(InvalidRunUpdate, match="unknown"):
        store.update_sequence(sequence.id, state="resting")


def test_lists_and_unfinished_and_an_unknown_id(store, sequence):
    other = store.create_sequence("rig1", 0, {"steps": []})
    store.update_sequence(other.id, state="failed", error="no")
    assert [s.id for s in store.list_sequences()] == [other.id, sequence.id]
    assert [s.id for s in store.list_sequences(state="failed")] == [other.id]
    assert [s.id for s in store.unfinished_sequences()] == [sequence.id]
    with pytest.raises(SequenceNotFound, match="99"):
        store.get_sequence(99)


def test_a_paused_stress_frees_the_rig_for_its_checkup(store, sequence):
    """`paused` is not unfinished for the one-start-per-rig check: the check-up can start."""
    stress = store.create_run("rig1", "lifetime", {"voltage_v": 10.0}, run_key=1,
                              sequence_id=sequence.id, step_index=0, exclusive=True)
    store.update_run(stress.id, state="running")
    with pytest.raises(RigBusy):
        store.create_run("rig1", "jvl", {}, run_key=2, exclusive=True)
    store.update_run(stress.id, state="paused")
    checkup = store.create_run("rig1", "jvl", {}, run_key=3, exclusive=True,
                               sequence_id=sequence.id, step_index=0, checkup_of=stress.id)
    runs = store.sequence_runs(sequence.id)
    assert [(r.id, r.checkup_of, r.calibration) for r in runs] == [
        (stress.id, None, None), (checkup.id, stress.id, None)]
    assert store.update_run(stress.id, state="running").state == "running"
