"""The live hub bounds what each client holds and says where a cut-off client's samples stop."""

import asyncio

from host.live.fanout import BEHIND_BYTES, Hub, sse


def _samples(first_seq: int, n: int) -> dict:
    return {"columns": ["seq", "t_s"], "rows": [[seq, seq * 0.5] for seq in
                                               range(first_seq, first_seq + n)]}


def test_a_message_is_encoded_once_for_every_client():
    async def scenario():
        hub = Hub()
        a, b = hub.subscribe(1), hub.subscribe(1)
        hub.publish(1, "samples", _samples(0, 3))
        (kind_a, encoded_a), (kind_b, encoded_b) = a.take(), b.take()
        assert kind_a == kind_b == "samples"
        assert encoded_a is encoded_b and encoded_a == sse("samples", _samples(0, 3))
        assert a.held_bytes == b.held_bytes == 0
    asyncio.run(scenario())


def test_a_client_behind_by_the_bound_takes_nothing_more_and_knows_where_it_stops():
    async def scenario():
        hub = Hub()
        slow, fast = hub.subscribe(7), hub.subscribe(7)
        seq, taken = 0, []
        while not slow.behind.is_set():
            hub.publish(7, "samples", _samples(seq, 100))
            hub.publish(7, "progress", {"progress": 0.1})
            while not fast.queue.empty():
                taken.append(fast.take())
            seq += 100
        assert slow.held_bytes <= BEHIND_BYTES
        first_dropped = slow.resync["seq"]
        held = slow.queue.qsize()
        hub.publish(7, "samples", _samples(seq, 100))
        assert slow.queue.qsize() == held, "a client behind queues nothing more"
        assert slow.resync["dropped"] == seq + 100 - first_dropped
        assert slow.resync["t_s"] == first_dropped * 0.5
        kept = []
        while not slow.queue.empty():
            kind, encoded = slow.take()
            if kind == "samples":
                kept.append(encoded)
        assert kept[-1] == sse("samples", _samples(first_dropped - 100, 100)), \
            "what it holds ends just before the first sample it will not get"
        assert not fast.behind.is_set() and fast.queue.qsize() == 1  # the last publish
        assert hub.stats() == {"clients": 2, "behind": 1, "cut": 0}
        slow.close()
        fast.close()
        assert hub.stats() == {"clients": 0, "behind": 0, "cut": 1}
    asyncio.run(scenario())


def test_nothing_is_encoded_for_a_run_nobody_follows():
    hub = Hub()
    hub.publish(3, "samples", {"rows": [[0, float("nan")]]})  # would not encode: no client
    assert hub.published == 1 and hub.subscriber_count() == 0


def test_a_message_that_cannot_be_encoded_is_skipped_and_the_next_goes_out():
    async def scenario():
        hub = Hub()
        client = hub.subscribe(3)
        hub.publish(3, "progress", {"pl_fraction": float("nan")})  # publish must not raise
        hub.publish(3, "samples", _samples(0, 1))
        assert hub.unencodable == 1
        assert [client.take()[0]] == ["samples"] and client.queue.empty()
    asyncio.run(scenario())
