"""A START_RUN whose answer is lost, then the rig resets: the board ran the run for a while
before its reset. The run is resumed from the samples it stored, not started over: sending
the same START_RUN to the board that came back would have numbered a second run from seq 0
under the same run, its samples filling the first one's gaps (seen in a loaded CI round:
the faulted hour stored two runs mixed). Driven with a scripted rig peer on a socket."""

import threading
import time
from typing import Any

from host.runs.manager import RunManager
from host.store import Store
from protocol import schema
from tests.host.runs.test_recovery import PARAMS, _until, with_a_manager
from tests.support.rigpeer import RigPeer

TAKEN = 10  # samples the board took before its reset


def _board_that_resets_before_answering(peer: RigPeer, starts: list[Any]) -> None:
    """The first START_RUN is carried out unanswered: TAKEN samples, then a reset (the
    board comes back idle); the board that came back would carry out and answer the same
    START_RUN again. A resume's START_RUN is answered and run."""

    def runs_then_resets(run_key: int) -> None:
        for first in range(0, TAKEN, 5):  # (a batch holds at most 8)
            peer.batch(run_key, list(range(first, min(first + 5, TAKEN))))
        time.sleep(0.3)
        peer.hello.update(reset_cause=schema.RESET_WATCHDOG)
        peer.drop_connection()

    def answer(m: Any) -> bool:
        if m.msg_id == schema.START_RUN:
            starts.append(m)
            if m.resume_seq:
                peer.heartbeat.update(state=schema.STATE_RUNNING, run_key=m.run_key,
                                      next_seq=m.resume_seq)
                peer.ack(m)
            elif len(starts) == 1:
                threading.Thread(target=runs_then_resets, args=(m.run_key,),
                                 daemon=True).start()
            elif peer.hello["reset_cause"] == schema.RESET_WATCHDOG:
                peer.ack(m)  # the board that came back starts it, as the firmware would
            return True
        return peer.answer_from_heartbeat(m)

    peer.handlers.append(answer)


def test_a_start_whose_answer_a_reset_swallowed_is_resumed_not_started_over(tmp_path):
    peer = RigPeer()
    starts: list[Any] = []
    _board_that_resets_before_answering(peer, starts)
    out: dict[str, Any] = {}

    async def body(manager: RunManager, store: Store) -> None:
        run = await manager.start_run("photostability", "rig1", PARAMS)
        out["started"] = run

        def names() -> list[str]:
            return [e.name for e in store.list_events(run_id=run.id)]

        await _until(lambda: "resumed" in names(), "the resume", 30)
        out["events"] = store.list_events(run_id=run.id)
        out["seqs"] = [int(s) for s in store.read_samples(run.id, columns=("t_s",))["seq"]]

    with_a_manager(tmp_path, peer, body)
    assert out["started"].state == "running"
    names = [e.name for e in out["events"]]
    assert names.count("start_crossed_reset") == 1 and names.count("resumed") == 1, names
    fresh = [m for m in starts if not m.resume_seq]
    assert len(fresh) == 1, "the START_RUN never reached the board that came back"
    [resume] = [m for m in starts if m.resume_seq]
    assert resume.resume_seq == TAKEN and resume.run_key == fresh[0].run_key
    assert out["seqs"] == list(range(TAKEN))
