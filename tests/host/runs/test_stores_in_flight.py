"""A run that ends or pauses while its last samples are still being written waits for them:
its summary and its `paused` event count every sample the order released, on a busy machine
too (where the database write of the last batch is still in its thread when the rig's
STATUS says nothing is missing). Driven with a scripted rig peer on a socket."""

import asyncio
import threading
from typing import Any

import pytest

from host.store import Store
from protocol import messages, schema
from tests.host.runs.test_recovery import _run_with_a_peer, _until
from tests.support.rigpeer import SAMPLE_ZEROS, RigPeer

HELD_SEQ = 7  # the write of the batch holding it waits for the gate


class GatedStore(Store):
    """A real SQLite store whose write of the batch holding HELD_SEQ waits for a gate, as a
    slow disk or a loaded machine would make it."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.gate = threading.Event()
        self.held = threading.Event()

    def insert_samples(self, run_id: int, cols: Any) -> Any:
        if HELD_SEQ in set(int(s) for s in cols["seq"]):
            self.held.set()
            self.gate.wait(30)
        return super().insert_samples(run_id, cols)


def _batch(peer: RigPeer, run_key: int, seqs: range) -> None:
    """PL points falling by 1 % of the first per sample, one per second."""
    records = [tuple(dict(SAMPLE_ZEROS, seq=s, t_s=s, pd_pa=100_000 - 1000 * s,
                          flags=schema.FLAG_PL_POINT).values()) for s in seqs]
    peer.send_body(schema.SAMPLE_BATCH, messages.pack(schema.SAMPLE_BATCH, (run_key, 0, 0),
                                                      records))


def _stops_on_request(peer: RigPeer, run_key: int, store: GatedStore) -> None:
    """The peer holds the run as a board would (HELLO_ACK, HEARTBEAT and STATUS say it runs
    it) until STOP_RUN is acknowledged; then it says the run stopped with seqs
    0..HELD_SEQ taken, and the held write is let go half a second after that answer."""
    held = {"state": schema.STATE_RUNNING, "run_key": run_key}
    peer.hello.update(held, mode=schema.MODE_PHOTOSTABILITY)
    peer.heartbeat.update(held)
    stopped = threading.Event()

    def answer(m: Any) -> bool:
        if m.msg_id == schema.STOP_RUN:
            stopped.set()
            for fields in (peer.hello, peer.heartbeat):
                fields.update(state=schema.STATE_IDLE, next_seq=HELD_SEQ + 1)
            peer.ack(m)
        elif m.msg_id == schema.GET_STATUS:
            fields = dict.fromkeys(messages.field_names(schema.STATUS), 0)
            fields.update(cmd_id=m.cmd_id, state=schema.STATE_RUNNING, run_key=run_key)
            if stopped.is_set():
                fields.update(state=schema.STATE_IDLE, next_seq=HELD_SEQ + 1,
                              stop_reason=schema.STOP_HOST_ABORT)
                threading.Timer(0.5, store.gate.set).start()
            peer.send("STATUS", **fields)
        else:
            return False
        return True

    peer.handlers.append(answer)


def _finished(tmp_path, finish: str, reconnect: bool = False) -> tuple[Any, list[Any], int]:
    """Send seqs 0..HELD_SEQ of a photostability run with the last batch's write held, then
    `finish` ("pause" or "abort") the run; returns the run, its events and how many samples
    are stored. reconnect: the link is lost and found again after seq 3 is stored."""
    out: list[Any] = []

    async def script(peer, manager, store, run):
        _stops_on_request(peer, run.run_key, store)
        try:
            _batch(peer, run.run_key, range(0, 4))
            await _until(lambda: store.max_seq(run.id) == 3, "seqs 0..3 stored")
            if reconnect:
                await _link_lost_and_found(peer, manager)
            _batch(peer, run.run_key, range(4, HELD_SEQ + 1))
            await _until(store.held.is_set, "the last batch's write to begin")
            out.append(await getattr(manager, finish)(run.id))
            out.append(store.list_events(run_id=run.id))
            out.append(len(store.read_samples(run.id, columns=("t_s",))["seq"]))
        finally:
            store.gate.set()

    _run_with_a_peer(tmp_path, script, store_type=GatedStore)
    return out[0], out[1], out[2]


async def _link_lost_and_found(peer: RigPeer, manager: Any) -> None:
    """Drop the connection and wait until the host has reconnected and settled the run."""
    link = manager.book.rigs["rig1"].link
    connections = peer.connections
    peer.drop_connection()
    await _until(lambda: peer.connections > connections and link.connected, "a reconnect")
    await asyncio.sleep(1.0)  # the reconcile after the handshake


def test_a_pause_during_the_last_write_records_the_stress_time_of_the_last_sample(tmp_path):
    run, events, stored = _finished(tmp_path, "pause")
    assert run.state == "paused"
    assert stored == HELD_SEQ + 1
    paused = [e for e in events if e.name == "paused"]
    assert len(paused) == 1
    assert paused[0].data == {"stress_t_s": float(HELD_SEQ), "next_seq": HELD_SEQ + 1}


def test_an_abort_during_the_last_write_summarises_every_sample(tmp_path):
    run, _events, stored = _finished(tmp_path, "abort")
    assert run.state == "aborted"
    assert stored == HELD_SEQ + 1
    # the last point ends the curve
    assert run.summary["t_min_s"] == float(HELD_SEQ), run.summary
    assert run.summary["final_fraction"] == pytest.approx(1 - 0.01 * HELD_SEQ), run.summary


def test_a_pause_after_the_link_came_back_finds_the_run_the_board_still_holds(tmp_path):
    """A reconnect (the link silent 3 s on a loaded machine) reattaches the run the board
    still runs: a pause after it parks the run as without one."""
    run, events, stored = _finished(tmp_path, "pause", reconnect=True)
    assert run.state == "paused"
    assert stored == HELD_SEQ + 1
    assert [e.data for e in events if e.name == "paused"] == [
        {"stress_t_s": float(HELD_SEQ), "next_seq": HELD_SEQ + 1}]
