"""One MQTT client fed from a bounded queue: offer() never blocks and never fails, a worker
thread encodes the messages and hands them to the client in order, at QoS 1.

What may wait is bounded: at most `queue_messages` messages in the queue (while the broker is
slow or away) and UNACKED_MAX handed to the client without the broker's PUBACK (the client
sends those again after a reconnect). A message offered to a full queue pushes out the
oldest one, which is counted in `dropped`: telemetry is for watching, the newest is what a
watcher needs, and the store keeps every sample whatever happens here.

Retained topics always end up holding their latest message: a retained message that was
pushed out, and after every (re)connect every retained message no longer waiting, is sent
again before the queue goes on; a retained message already superseded is sent unretained.
"""

import json
import logging
import os
import threading
import time
from collections import deque
from typing import Any

import paho.mqtt.client as mqtt

from host.mqtt.broker import Broker

log = logging.getLogger(__name__)

QOS = 1
UNACKED_MAX = 100  # handed to the client, no PUBACK yet
KEEPALIVE_S = 30
RECONNECT_MIN_S = 1
RECONNECT_MAX_S = 10
FLUSH_S = 2.0  # at stop, how long what waits may take to reach a connected broker


class Message:
    """One message to publish; payload is JSON-ready and encoded by the worker."""

    __slots__ = ("topic", "payload", "retain", "queued")

    def __init__(self, topic: str, payload: Any, retain: bool = False):
        self.topic = topic
        self.payload = payload
        self.retain = retain
        self.queued = False


class Publisher:
    """A bounded queue, its worker thread and the paho client it feeds.

    offer() may be called from any thread (the service calls it on the event loop);
    start() and stop() from one thread. will: published by the broker, retained, if this
    client goes away without saying so.
    """

    def __init__(self, broker: Broker, client_name: str, will: Message | None = None):
        self.broker = broker
        self.client_name = client_name
        self.will = will
        self.published = 0  # acknowledged by the broker (PUBACK)
        self.dropped = 0
        self._queue: deque[Message] = deque()
        self._latest: dict[str, Message] = {}  # retained topic -> its newest message
        self._resend: dict[str, Message] = {}  # retained topics to send again first
        self._unacked = 0
        self._connected = False
        self._stopping = False
        self._stop_by = 0.0  # monotonic time the worker gives up at, once stopping
        self._cond = threading.Condition()
        self._client: mqtt.Client | None = None
        self._worker: threading.Thread | None = None
        self._down_logged = False

    # ------------------------------------------------------------------ producers

    def offer(self, topic: str, payload: Any, retain: bool = False) -> None:
        """Queue a message; the oldest queued one is dropped (and counted) when it is full."""
        message = Message(topic, payload, retain)
        with self._cond:
            if retain:
                self._latest[topic] = message
            if len(self._queue) >= self.broker.queue_messages:
                self._evict_oldest()
            message.queued = True
            self._queue.append(message)
            self._cond.notify()

    def stats(self) -> dict[str, Any]:
        """broker, connected, published (acknowledged), dropped, queued (waiting or not
        acknowledged yet)."""
        with self._cond:
            return {"broker": self.broker.url, "connected": self._connected,
                    "published": self.published, "dropped": self.dropped,
                    "queued": len(self._queue) + len(self._resend) + self._unacked}

    def _evict_oldest(self) -> None:
        old = self._queue.popleft()
        old.queued = False
        self.dropped += 1
        if old.retain and self._latest.get(old.topic) is old:
            self._resend[old.topic] = old

    # ------------------------------------------------------------------ lifetime

    def start(self) -> None:
        """Connect in the background (again and again while the broker is away) and start
        the worker; returns at once."""
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2,
                             client_id="%s-%d" % (self.client_name, os.getpid()),
                             clean_session=True, protocol=mqtt.MQTTv311)
        client.max_inflight_messages_set(UNACKED_MAX)
        client.reconnect_delay_set(RECONNECT_MIN_S, RECONNECT_MAX_S)
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        if self.will is not None:
            client.will_set(self.will.topic, _encode(self.will.payload), QOS, retain=True)
        self._client = client
        client.connect_async(self.broker.host, self.broker.port, KEEPALIVE_S)
        client.loop_start()
        self._worker = threading.Thread(target=self._work, name="mqtt-publisher", daemon=True)
        self._worker.start()

    def stop(self, flush_s: float = FLUSH_S) -> None:
        """Give what waits up to flush_s to reach the broker, then disconnect (a clean
        disconnect: the broker does not publish the will). Blocks up to flush_s."""
        deadline = time.monotonic() + flush_s
        with self._cond:
            self._stopping = True
            self._stop_by = deadline
            self._cond.notify_all()
        if self._worker is not None:
            self._worker.join(flush_s)
        with self._cond:
            while self._connected and self._unacked and time.monotonic() < deadline:
                self._cond.wait(deadline - time.monotonic())
            left = len(self._queue) + len(self._resend) + self._unacked
        if left:
            log.warning("mqtt: %d messages did not reach %s before the service stopped",
                        left, self.broker.url)
        if self._client is not None:
            self._client.disconnect()
            self._client.loop_stop()

    # ------------------------------------------------------------------ the worker

    def _work(self) -> None:
        while True:
            taken = self._take()
            if taken is None:
                return
            message, retain = taken
            try:
                data = _encode(message.payload)
            except (TypeError, ValueError) as exc:  # a non-finite value: this one is lost
                log.warning("mqtt: a message to %s could not be encoded (%s)", message.topic, exc)
                with self._cond:
                    self._unacked -= 1
                    self.dropped += 1
                continue
            self._hand_over(message.topic, data, retain)

    def _take(self) -> tuple[Message, bool] | None:
        """The next message and whether to retain it, once the broker is connected and the
        unacknowledged window has room; None when the worker is to end (stopping, and
        nothing left or no broker to take it)."""
        with self._cond:
            while True:
                pending = bool(self._queue or self._resend)
                if self._stopping and (not (pending and self._connected)
                                       or time.monotonic() >= self._stop_by):
                    return None
                if pending and self._connected and self._unacked < UNACKED_MAX:
                    self._unacked += 1
                    return self._next()
                self._cond.wait(0.2 if self._stopping else None)

    def _next(self) -> tuple[Message, bool]:
        while self._resend:
            topic, message = self._resend.popitem()
            if self._latest.get(topic) is message and not message.queued:
                return message, True
        message = self._queue.popleft()
        message.queued = False
        return message, message.retain and self._latest.get(message.topic) is message

    def _hand_over(self, topic: str, data: bytes, retain: bool) -> None:
        assert self._client is not None
        try:
            info = self._client.publish(topic, data, QOS, retain)
            refused = info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN)
        except (ValueError, RuntimeError) as exc:  # a bad topic or payload: never retried
            log.warning("mqtt: publishing to %s failed: %s", topic, exc)
            refused = True
        if refused:  # NO_CONN is not refused: the client sends it again once connected
            with self._cond:
                self._unacked -= 1
                self.dropped += 1
                self._cond.notify_all()

    # ------------------------------------------------------------------ client callbacks

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any,
                    properties: Any) -> None:
        if reason.is_failure:
            self._note_down("the broker refused the connection: %s" % reason)
            return
        log.info("mqtt: connected to %s", self.broker.url)
        with self._cond:
            self._connected = True
            self._down_logged = False
            for topic, message in self._latest.items():
                if not message.queued:
                    self._resend[topic] = message
            self._cond.notify_all()

    def _on_connect_fail(self, client: Any, userdata: Any) -> None:
        self._note_down("cannot connect (trying again)")

    def _on_disconnect(self, client: Any, userdata: Any, flags: Any, reason: Any,
                       properties: Any) -> None:
        with self._cond:
            self._connected = False
            self._cond.notify_all()
        if not self._stopping:
            self._note_down("disconnected: %s" % reason)

    def _on_publish(self, client: Any, userdata: Any, mid: int, reason: Any,
                    properties: Any) -> None:
        with self._cond:
            self._unacked -= 1
            self.published += 1
            self._cond.notify_all()

    def _note_down(self, why: str) -> None:
        """Logged once per outage: a broker that stays away must not fill the log."""
        if not self._down_logged:
            self._down_logged = True
            log.warning("mqtt: %s: %s; messages wait (at most %d, then the oldest are dropped)",
                        self.broker.url, why, self.broker.queue_messages)


def _encode(payload: Any) -> bytes:
    return json.dumps(payload, allow_nan=False, separators=(",", ":")).encode()
