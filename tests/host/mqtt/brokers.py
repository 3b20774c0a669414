"""Brokers for the MQTT tests: the machine's Mosquitto on 127.0.0.1:1883, a private Mosquitto
on a free port (one a test may kill), and a subscriber that keeps every message it receives."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import uuid
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest

from tests.support.service_proc import free_port
from tests.support.waiting import wait_for

SHARED_HOST, SHARED_PORT = "127.0.0.1", 1883
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def _unavailable(reason: str) -> None:
    """A missing broker fails the test under CI (.ci/run provides one), skips it else."""
    if os.environ.get("CI"):
        pytest.fail(reason + "; CI must provide it", pytrace=False)
    pytest.skip(reason + "; set CI=1 to make this a failure")


def listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def require_shared_broker() -> None:
    if not listening(SHARED_HOST, SHARED_PORT):
        _unavailable("no MQTT broker on %s:%d" % (SHARED_HOST, SHARED_PORT))


def unique_prefix() -> str:
    """A topic prefix no other test (or test session) on the shared broker uses."""
    return "lumenrig-test-%s" % uuid.uuid4().hex[:10]


class PrivateBroker:
    """A Mosquitto of the test's own on a free loopback port, killed when the test says."""

    def __init__(self, folder: Path):
        if not os.access(MOSQUITTO, os.X_OK):
            _unavailable("no mosquitto binary at %s" % MOSQUITTO)
        self.folder = folder
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    def start(self) -> PrivateBroker:
        config = self.folder / ("mosquitto-%d.conf" % self.port)
        config.write_text("listener %d 127.0.0.1\nallow_anonymous true\npersistence false\n"
                          % self.port)
        log = open(self.folder / ("mosquitto-%d.log" % self.port), "ab")
        self.proc = subprocess.Popen([MOSQUITTO, "-c", str(config)], stdout=log,
                                     stderr=subprocess.STDOUT)
        log.close()
        wait_for(lambda: listening("127.0.0.1", self.port) or self.proc.poll() is not None,
                 30, "mosquitto to listen on %d" % self.port)
        assert self.proc.poll() is None, (self.folder / ("mosquitto-%d.log" % self.port)
                                          ).read_text()
        return self

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


class Subscriber:
    """A paho client subscribed to `topic_filter` at QoS 1 that keeps (topic, payload,
    retained) of every message, payloads decoded from JSON."""

    def __init__(self, port: int, topic_filter: str, host: str = "127.0.0.1"):
        self.topic_filter = topic_filter
        self.messages: list[tuple[str, Any, bool]] = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2,
                                  client_id="test-sub-%s" % uuid.uuid4().hex[:8])
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *args: self._subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect(host, port, 30)
        self.client.loop_start()
        wait_for(self._subscribed.is_set, 30, "the SUBACK of %s" % topic_filter)

    def _on_connect(self, client, userdata, flags, reason, properties) -> None:
        client.subscribe(self.topic_filter, qos=1)

    def _on_message(self, client, userdata, message) -> None:
        payload = json.loads(message.payload) if message.payload else None
        with self._lock:
            self.messages.append((message.topic, payload, bool(message.retain)))

    def on(self, topic_end: str) -> list[tuple[Any, bool]]:
        """(payload, retained) of the messages so far whose topic ends with topic_end."""
        with self._lock:
            return [(p, r) for t, p, r in self.messages if t.endswith(topic_end)]

    def payloads(self, topic_end: str) -> list[Any]:
        return [payload for payload, _ in self.on(topic_end)]

    def clear_retained(self) -> None:
        """Leave the broker as it was: an empty retained message on each retained topic seen."""
        with self._lock:
            topics = {t for t, p, r in self.messages if p is not None
                      and t.rsplit("/", 1)[1] in ("service", "status", "run")}
        for topic in topics:
            self.client.publish(topic, b"", qos=1, retain=True).wait_for_publish(5)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
