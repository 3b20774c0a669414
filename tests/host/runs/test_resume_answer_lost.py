"""A resume whose START_RUN reached the rig but whose answer did not (the link went down
first): the reconnect finds the rig running the run, and the run says `resumed` once, not
`resume_failed`, however the retried START_RUN is answered later. Driven with a scripted rig
peer on a socket."""

from typing import Any

from protocol import schema
from tests.host.runs.test_recovery import _run_with_a_peer, _until
from tests.support.rigpeer import RigPeer


def _board_that_resets_and_loses_the_resume_answer(peer: RigPeer, run_key: int,
                                                   acked: list[Any]) -> None:
    """The rig comes back from a reset without the run; it takes the resume's START_RUN but
    the link goes down before its ACK; from then on it runs the run and ACKs a repeat (kept
    in acked)."""
    resumed = []

    def answer(m: Any) -> bool:
        if m.msg_id == schema.GET_STATUS:
            fields = {"cmd_id": m.cmd_id, "state": peer.hello["state"],
                      "run_key": peer.hello["run_key"], "next_seq": peer.hello["next_seq"]}
            peer.send("STATUS", **{**dict.fromkeys(_status_names(), 0), **fields})
        elif m.msg_id == schema.START_RUN and m.resume_seq:
            if resumed:
                peer.ack(m)  # the repeat: the run it runs already
                acked.append(m)
            else:
                resumed.append(m)
                peer.hello.update(state=schema.STATE_RUNNING, run_key=run_key,
                                  next_seq=m.resume_seq)
                peer.drop_connection()
        elif m.msg_id == schema.RESEND:
            peer.nack(m, schema.NACK_BAD_RUN_KEY, peer.hello["run_key"])
        else:
            return False
        return True

    peer.handlers.insert(0, answer)


def _status_names() -> tuple[str, ...]:
    from protocol import messages

    return tuple(messages.field_names(schema.STATUS))


def test_a_resume_whose_answer_was_lost_is_said_once_at_the_reconnect(tmp_path):
    events: list[Any] = []

    async def script(peer, manager, store, run):
        acked: list[Any] = []
        _board_that_resets_and_loses_the_resume_answer(peer, run.run_key, acked)
        peer.batch(run.run_key, [0, 1, 2, 3])
        await _until(lambda: store.max_seq(run.id) == 3, "seqs 0..3 stored")
        peer.hello.update(reset_cause=schema.RESET_WATCHDOG)  # a reset, unseen by the host
        peer.drop_connection()

        def names():
            return [e.name for e in store.list_events(run_id=run.id)]

        await _until(lambda: "resumed" in names() and "reattached" in names(),
                     "the reconnect to find the run resumed", 30)
        # The repeated START_RUN answered and the resume that sent it over: nothing more
        # can say it.
        tracker = manager.book.trackers[run.id]
        await _until(lambda: acked and not tracker.resuming, "the resume to end", 30)
        events.extend(store.list_events(run_id=run.id))

    _run_with_a_peer(tmp_path, script)
    names = [e.name for e in events]
    assert names.count("resumed") == 1, names
    assert "resume_failed" not in names and "reattached" in names, names
