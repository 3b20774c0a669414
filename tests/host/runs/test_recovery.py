"""The run manager owns missing samples: it asks for them again until they come or the rig
says they are gone, then records them lost. Driven with a scripted rig peer on a socket."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from host.live.fanout import Hub
from host.rigs import Rig
from host.runs.manager import RunManager
from host.runs.params import PhotostabilityParams
from host.settings import RigSpec
from host.store import Store
from protocol import schema
from tests.support.rigpeer import RigPeer

PARAMS = PhotostabilityParams(duration_s=3600, pl_interval_s=60, sample_period_s=1)


async def _until(condition: Callable[[], Any], what: str, timeout_s: float = 10.0) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not (value := condition()):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out waiting for " + what)
        await asyncio.sleep(0.01)
    return value


def with_a_manager(tmp_path, peer: RigPeer, body: Callable[..., Awaitable[None]],
                   store_type: type[Store] = Store) -> None:
    """A run manager on a rig whose port is the peer, once linked: body(manager, store)
    (store: a store_type on SQLite); the peer is closed after."""

    async def main() -> None:
        with store_type("sqlite:///%s" % (tmp_path / "runs.sqlite")) as store:
            rig = Rig(RigSpec(name="rig1", spec=peer.url))
            rig.open(store)
            manager = RunManager(store, Hub(), {"rig1": rig})
            await manager.start()
            try:
                await _until(lambda: rig.link.connected, "the link")
                await body(manager, store)
            finally:
                await manager.stop()
                rig.close()

    try:
        asyncio.run(main())
    finally:
        peer.close()


def _run_with_a_peer(tmp_path, script: Callable[..., Awaitable[None]],
                     store_type: type[Store] = Store) -> None:
    """Start a photostability run on a rig whose port is a RigPeer, then run script(peer,
    manager, store, run) while the manager follows it (store: a store_type on SQLite)."""
    peer = RigPeer()
    starts: list[Any] = []
    peer.handlers.append(lambda m: m.msg_id == schema.START_RUN and (
        starts.append(m) or peer.ack(m) or True))

    async def body(manager: RunManager, store: Store) -> None:
        run = await manager.start_run("photostability", "rig1", PARAMS)
        assert starts and starts[0].run_key == run.run_key
        await script(peer, manager, store, run)

    with_a_manager(tmp_path, peer, body, store_type)


def _stored(store: Store, run_id: int) -> list[int]:
    return [int(s) for s in store.read_samples(run_id, columns=("t_s",))["seq"]]


def _events(store: Store, run_id: int, name: str) -> list[Any]:
    return [e for e in store.list_events(run_id=run_id) if e.name == name]


def test_a_gap_is_asked_for_and_every_seq_is_stored_once(tmp_path):
    async def script(peer, manager, store, run):
        peer.serve_resends()
        peer.batch(run.run_key, list(range(8)))
        peer.batch(run.run_key, list(range(16, 24)))
        await _until(lambda: len(_stored(store, run.id)) == 24, "24 samples stored")
        assert _stored(store, run.id) == list(range(24))
        asked = [(m.from_seq, m.to_seq) for m in peer.sent_by_host("RESEND")]
        assert asked[0] == (8, 15)
        gap = _events(store, run.id, "gap")
        assert [(e.data["from_seq"], e.data["to_seq"]) for e in gap] == [(8, 15)]
        await _until(lambda: _events(store, run.id, "resent"), "the resent event")
        assert manager.book.rigs["rig1"].recovery["resend_requests"] >= 1

    _run_with_a_peer(tmp_path, script)


def test_a_range_that_does_not_come_is_asked_for_again(tmp_path):
    async def script(peer, manager, store, run):
        answered = []

        def ack_without_samples_first(m):
            if m.msg_id != schema.RESEND:
                return False
            answered.append(m)
            if len(answered) >= 2:
                peer.batch(m.run_key, list(range(m.from_seq, m.to_seq + 1)), resent=True)
            peer.ack(m)
            return True

        peer.handlers.append(ack_without_samples_first)
        peer.batch(run.run_key, [0, 1])
        peer.batch(run.run_key, [5])
        await _until(lambda: len(_stored(store, run.id)) == 6, "6 samples stored")
        assert [(m.from_seq, m.to_seq) for m in answered[:2]] == [(2, 4), (2, 4)]
        assert answered[0].cmd_id != answered[1].cmd_id  # a new request, not a retry

    _run_with_a_peer(tmp_path, script)


def test_what_the_rig_no_longer_holds_is_recorded_lost_and_the_rest_stored(tmp_path):
    async def script(peer, manager, store, run):
        peer.serve_resends(held=range(20, 10_000))
        peer.batch(run.run_key, [0])
        peer.batch(run.run_key, [30])
        await _until(lambda: len(_stored(store, run.id)) == 12, "the held part stored")
        assert _stored(store, run.id) == [0] + list(range(20, 31))
        lost = await _until(lambda: _events(store, run.id, "samples_lost"), "samples_lost")
        assert [(e.data["from_seq"], e.data["to_seq"]) for e in lost] == [(1, 19)]
        recovery = manager.book.rigs["rig1"].recovery
        assert (recovery["samples_lost"], recovery["resend_refused"] >= 1) == (19, True)

    _run_with_a_peer(tmp_path, script)


def test_a_lost_tail_is_asked_for_from_the_heartbeat_count(tmp_path):
    async def script(peer, manager, store, run):
        peer.serve_resends()
        peer.batch(run.run_key, list(range(8)))
        peer.heartbeat.update(run_key=run.run_key, next_seq=20, state=schema.STATE_RUNNING)
        await _until(lambda: len(_stored(store, run.id)) == 20, "the tail stored")
        assert _stored(store, run.id) == list(range(20))
        assert (8, 19) in [(m.from_seq, m.to_seq) for m in peer.sent_by_host("RESEND")]

    _run_with_a_peer(tmp_path, script)


def test_a_sample_the_link_saw_before_is_stored_when_the_rig_resends_it(tmp_path):
    async def script(peer, manager, store, run):
        peer.batch(run.run_key, [0, 1, 2])
        await _until(lambda: len(_stored(store, run.id)) == 3, "3 samples stored")
        peer.batch(run.run_key, [1, 2, 3], resent=True)  # the link passes them; the run
        await _until(lambda: len(_stored(store, run.id)) == 4, "seq 3")  # stores each once
        assert _stored(store, run.id) == [0, 1, 2, 3]

    _run_with_a_peer(tmp_path, script)


def test_the_rig_page_counts_what_is_missing_until_the_backfill_closes_it(tmp_path):
    async def script(peer, manager, store, run):
        # Asked for, acknowledged, never sent: seqs 3..5 stay missing.
        peer.handlers.append(lambda m: m.msg_id == schema.RESEND and (peer.ack(m) or True))
        peer.batch(run.run_key, [0, 1, 2, 6])
        recovery = manager.book.rigs["rig1"].recovery
        await _until(lambda: recovery["samples_missing"] == 3, "3 missing shown")
        peer.handlers.clear()
        peer.serve_resends()
        await _until(lambda: recovery["samples_missing"] == 0, "nothing missing")

    _run_with_a_peer(tmp_path, script)
