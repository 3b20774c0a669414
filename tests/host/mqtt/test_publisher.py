"""The publisher's queue: bounded, the oldest message dropped and counted when it is full,
retained topics ending with their latest message, nothing lost while the broker takes it."""

import pytest

from host.mqtt.broker import Broker
from host.mqtt.publisher import Publisher
from tests.host.mqtt.brokers import PrivateBroker, Subscriber
from tests.support.service_proc import free_port
from tests.support.waiting import wait_for


@pytest.fixture
def broker(tmp_path):
    running = PrivateBroker(tmp_path).start()
    yield running
    running.kill()


@pytest.fixture
def subscriber(broker):
    sub = Subscriber(broker.port, "t/#")
    yield sub
    sub.close()


def _publisher(port: int, queue_messages: int) -> Publisher:
    return Publisher(Broker("127.0.0.1", port, "t", queue_messages), "test-publisher")


def _published(publisher: Publisher, count: int) -> bool:
    return publisher.stats()["published"] >= count


def test_a_full_queue_pushes_out_the_oldest_message_and_counts_it(broker, subscriber):
    publisher = _publisher(broker.port, queue_messages=3)
    for n in range(5):
        publisher.offer("t/n", {"n": n})
    assert publisher.stats() | {"broker": None} == {
        "broker": None, "connected": False, "published": 0, "dropped": 2, "queued": 3}
    publisher.start()
    try:
        wait_for(lambda: len(subscriber.on("t/n")) == 3, 30, "the three queued messages")
        assert subscriber.payloads("t/n") == [{"n": 2}, {"n": 3}, {"n": 4}]
        wait_for(lambda: _published(publisher, 3), 30, "three PUBACKs")
        assert publisher.stats()["dropped"] == 2
    finally:
        publisher.stop()


def test_offer_returns_at_once_with_no_broker_there_and_counts_every_drop():
    publisher = _publisher(free_port(), queue_messages=10)
    publisher.start()
    try:
        for n in range(10_000):
            publisher.offer("t/n", {"n": n})
        stats = publisher.stats()
        assert (stats["connected"], stats["dropped"], stats["queued"]) == (False, 9990, 10)
    finally:
        publisher.stop()


def test_every_message_reaches_a_connected_broker_in_order(broker, subscriber):
    publisher = _publisher(broker.port, queue_messages=5000)
    publisher.start()
    try:
        wait_for(lambda: publisher.stats()["connected"], 30, "the connection")
        for n in range(2000):
            publisher.offer("t/n", {"n": n})
        wait_for(lambda: len(subscriber.on("t/n")) == 2000, 30, "2000 messages")
        assert subscriber.payloads("t/n") == [{"n": n} for n in range(2000)]
        wait_for(lambda: _published(publisher, 2000), 30, "2000 PUBACKs")
        assert publisher.stats()["dropped"] == 0
    finally:
        publisher.stop()


def test_a_retained_topic_pushed_out_of_the_queue_still_ends_with_its_latest_message(
        broker):
    publisher = _publisher(broker.port, queue_messages=2)
    publisher.offer("t/status", {"v": 1}, retain=True)
    publisher.offer("t/status", {"v": 2}, retain=True)
    for n in range(3):
        publisher.offer("t/n", {"n": n})  # pushes both statuses out
    assert publisher.stats()["dropped"] == 3
    publisher.start()
    try:
        wait_for(lambda: _published(publisher, 3), 30, "the latest status and two messages")
        late = Subscriber(broker.port, "t/status")
        try:
            wait_for(lambda: late.on("t/status"), 30, "the retained status")
            assert late.on("t/status") == [({"v": 2}, True)]
        finally:
            late.close()
    finally:
        publisher.stop()


def test_messages_wait_for_a_broker_that_comes_back_and_reach_it(tmp_path):
    first = PrivateBroker(tmp_path).start()
    publisher = _publisher(first.port, queue_messages=100)
    publisher.start()
    try:
        wait_for(lambda: publisher.stats()["connected"], 30, "the connection")
        first.kill()
        wait_for(lambda: not publisher.stats()["connected"], 30, "the broker to be gone")
        for n in range(4):
            publisher.offer("t/n", {"n": n})
        publisher.offer("t/status", {"last": True}, retain=True)
        again = PrivateBroker(tmp_path)
        again.port = first.port
        again.start()
        try:
            wait_for(lambda: _published(publisher, 5), 30, "the five waiting messages")
            assert publisher.stats()["dropped"] == 0
            late = Subscriber(again.port, "t/status")
            try:
                wait_for(lambda: late.on("t/status"), 30, "the retained status")
                assert late.on("t/status") == [({"last": True}, True)]
            finally:
                late.close()
        finally:
            again.kill()
    finally:
        publisher.stop()


def test_a_message_that_is_not_json_is_dropped_and_the_next_ones_go_on(broker, subscriber):
    publisher = _publisher(broker.port, queue_messages=10)
    publisher.offer("t/n", {"n": float("nan")})
    publisher.offer("t/n", {"n": 1})
    publisher.start()
    try:
        wait_for(lambda: subscriber.on("t/n"), 30, "the encodable message")
        assert subscriber.payloads("t/n") == [{"n": 1}]
        assert publisher.stats()["dropped"] == 1
    finally:
        publisher.stop()
