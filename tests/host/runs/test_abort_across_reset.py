"""An abort whose STOP_RUN meets a rig reset: the board took the abort's command and reset
before answering it (or reset first). The reset stopped the run on the board, so the abort
stands: the run ends `aborted` with every sample stored, and the reconnect after the reset
never resumes it (it did before, answering the abort 503 while the run went on). Driven with
a scripted rig peer on a socket."""

import asyncio
import threading
import time
from typing import Any

import pytest

from host.runs.manager import RunManager
from host.store import Store
from protocol import schema
from tests.host.runs.test_recovery import PARAMS, _until, with_a_manager
from tests.support.rigpeer import RigPeer

TAKEN = 10  # samples the board took (and sent) before the abort


def _board_that_resets_on_the_abort(peer: RigPeer, starts: list[Any], stops: list[Any],
                                    keeps_run: bool) -> None:
    """START_RUN is taken and answered, TAKEN samples sent; the first STOP_RUN goes
    unanswered and the board resets: it comes back idle, holding no run (as the firmware
    does), or (keeps_run) says it was reset yet still runs the run, which a later STOP_RUN
    stops."""

    def resets() -> None:
        time.sleep(0.3)
        if not keeps_run:
            idle = {"state": schema.STATE_IDLE, "run_key": 0, "next_seq": 0}
            peer.heartbeat.update(idle)
            peer.hello.update(idle)
        peer.hello.update(reset_cause=schema.RESET_WATCHDOG)
        peer.drop_connection()

    def answer(m: Any) -> bool:
        if m.msg_id == schema.START_RUN:
            starts.append(m)
            running = {"state": schema.STATE_RUNNING, "run_key": m.run_key, "next_seq": TAKEN}
            peer.heartbeat.update(running)
            peer.hello.update(running)
            peer.ack(m)
            for first in range(0, TAKEN, 5):  # (a batch holds at most 8)
                peer.batch(m.run_key, list(range(first, min(first + 5, TAKEN))))
            return True
        if m.msg_id == schema.STOP_RUN:
            stops.append(m)
            if len(stops) == 1:
                threading.Thread(target=resets, daemon=True).start()
            else:
                peer.heartbeat.update(state=schema.STATE_IDLE)  # (run_key stays: stopped)
                peer.ack(m)
            return True
        return peer.answer_from_heartbeat(m)

    peer.handlers.append(answer)


@pytest.mark.parametrize("keeps_run", [False, True], ids=["comes-back-idle", "still-runs-it"])
def test_an_abort_that_meets_a_reset_ends_the_run_aborted_never_resumed(tmp_path, keeps_run):
    peer = RigPeer()
    starts: list[Any] = []
    stops: list[Any] = []
    _board_that_resets_on_the_abort(peer, starts, stops, keeps_run)
    out: dict[str, Any] = {}

    async def body(manager: RunManager, store: Store) -> None:
        run = await manager.start_run("photostability", "rig1", PARAMS)
        await _until(lambda: len(store.read_samples(run.id, columns=("t_s",))["seq"]) == TAKEN,
                     "the samples the board sent", 30)
        began = time.monotonic()
        out["aborted"] = await manager.abort(run.id)
        out["abort_s"] = time.monotonic() - began
        await _until(lambda: len(peer.sent_by_host("HELLO")) >= 2, "the board that came back",
                     30)
        await asyncio.sleep(1.0)  # heartbeats of the idle board: a resume would come now
        out["run"] = store.get_run(run.id)
        out["events"] = [e.name for e in store.list_events(run_id=run.id)]
        out["seqs"] = [int(s) for s in store.read_samples(run.id, columns=("t_s",))["seq"]]

    with_a_manager(tmp_path, peer, body)
    assert out["aborted"].state == "aborted", (out["aborted"], out["abort_s"], out["events"])
    assert out["run"].state == "aborted" and out["run"].error is None, out["run"]
    assert out["events"].count("abort_crossed_reset") == 1, out["events"]
    assert "resumed" not in out["events"], out["events"]
    assert [m.resume_seq for m in starts] == [0], "the aborted run was started again"
    assert out["seqs"] == list(range(TAKEN))
    assert out["run"].summary["stop_reason"] == "host_abort", out["run"].summary
    # The board that still ran it was stopped; the one that came back idle was left alone.
    assert len(stops) == (2 if keeps_run else 1), stops
