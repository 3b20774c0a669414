"""The service's MQTT side: every live message of the hub, and each rig's status, to the broker.

A tap on the hub (host.live.fanout) sees each run message after it is stored; it finds the
run's rig and channel and offers the message to the publisher, on the event loop, without waiting for
anything. Each rig's status is checked every STATUS_CHECK_S and at every run state change,
and published (retained) when it changed.
"""

import asyncio
import logging
from collections import OrderedDict
from typing import Any

from host.live.fanout import Hub
from host.mqtt import topics
from host.mqtt.broker import Broker
from host.mqtt.publisher import Message, Publisher
from host.rigs import Rig
from host.store import RunNotFound, Store

log = logging.getLogger(__name__)

STATUS_CHECK_S = 1.0
RUNS_REMEMBERED = 256  # run id -> (rig name, channel), newest kept


class Telemetry:
    """A tap on the hub, the rigs' status checks and the publisher they feed."""

    def __init__(self, broker: Broker, site: str, rigs: dict[str, Rig], store: Store):
        self.site = site
        self.rigs = rigs
        self.store = store
        self.topics = topics.Topics(broker.prefix, site)
        self.publisher = Publisher(broker, "lumenrig-%s" % site, will=Message(
            self.topics.service(), topics.service_payload(site, False), retain=True))
        self._run_rigs: OrderedDict[int, tuple[str, int]] = OrderedDict()
        self._unresolved: dict[int, list[tuple[str, Any]]] = {}
        self._statuses: dict[str, dict[str, Any]] = {}
        self._hub: Hub | None = None
        self._task: asyncio.Task | None = None

    async def start(self, hub: Hub) -> None:
        """Connect in the background (a broker that is away does not stop the service) and
        tap the hub."""
        await asyncio.to_thread(self.publisher.start)
        self.publisher.offer(self.topics.service(), topics.service_payload(self.site, True),
                             retain=True)
        self._hub = hub
        hub.add_tap(self.on_hub)
        self.check_statuses()
        self._task = asyncio.create_task(self._check_every_while())

    async def stop(self) -> None:
        """Last statuses and `online: false`, flushed for a moment, then disconnect."""
        if self._hub is not None:
            self._hub.remove_tap(self.on_hub)
        if self._task is not None:
            self._task.cancel()
        self.check_statuses()
        self.publisher.offer(self.topics.service(), topics.service_payload(self.site, False),
                             retain=True)
        await asyncio.to_thread(self.publisher.stop)

    def stats(self) -> dict[str, Any]:
        return {"site": self.site, **self.publisher.stats()}

    # ------------------------------------------------------------------ the hub's messages

    def on_hub(self, run_id: int, kind: str, data: Any) -> None:
        """The hub's tap: called on the event loop for every run message; never blocks."""
        if kind in ("state", "end"):
            self._remember(run_id, (data["rig"], data.get("channel", 0)))
        place = self._place_of(run_id)
        if place is None:  # not a run of a rig here now: the store says whose it is
            waiting = self._unresolved.setdefault(run_id, [])
            waiting.append((kind, data))
            if len(waiting) == 1:
                asyncio.get_running_loop().create_task(self._resolve(run_id))
            return
        self._offer(place, run_id, kind, data)

    def _offer(self, place: tuple[str, int], run_id: int, kind: str, data: Any) -> None:
        """place: the run's rig and channel."""
        rig, number = place
        offer, channel = self.publisher.offer, self.topics.channel
        if kind == "samples":
            offer(channel(rig, "samples", number), topics.samples_payload(run_id, data))
        elif kind == "progress":
            offer(channel(rig, "progress", number), topics.progress_payload(run_id, data))
        elif kind == "event":
            offer(channel(rig, "events", number), data)
        elif kind in ("state", "end"):
            offer(channel(rig, "run", number), topics.run_payload(data), retain=True)
            if rig in self.rigs:
                self._check_status(self.rigs[rig])

    def _place_of(self, run_id: int) -> tuple[str, int] | None:
        """The rig and channel of a run: remembered, or a run a rig here follows now."""
        place = self._run_rigs.get(run_id)
        if place is None:
            place = next(((r.name, channel) for r in self.rigs.values()
                          for channel, active in r.active_runs.items() if active == run_id),
                         None)
            if place is not None:
                self._remember(run_id, place)
        return place

    def _remember(self, run_id: int, place: tuple[str, int]) -> None:
        self._run_rigs[run_id] = place
        self._run_rigs.move_to_end(run_id)
        while len(self._run_rigs) > RUNS_REMEMBERED:
            self._run_rigs.popitem(last=False)

    async def _resolve(self, run_id: int) -> None:
        """Find a run's rig in the store, then offer what waited for it, in order."""
        place = None
        try:
            run = await asyncio.to_thread(self.store.get_run, run_id)
            place = (run.rig, run.channel)
        except RunNotFound:
            log.warning("mqtt: run %d is not in the store; its live messages are not published",
                        run_id)
        except Exception:
            log.exception("mqtt: the rig of run %d could not be read", run_id)
        waiting = self._unresolved.pop(run_id, [])
        if place is None:
            return
        self._remember(run_id, place)
        for kind, data in waiting:
            self._offer(place, run_id, kind, data)

    # ------------------------------------------------------------------ rig status

    def check_statuses(self) -> None:
        for rig in self.rigs.values():
            self._check_status(rig)

    def _check_status(self, rig: Rig) -> None:
        status = topics.status_payload(rig)
        if self._statuses.get(rig.name) != status:
            self._statuses[rig.name] = status
            self.publisher.offer(self.topics.status(rig.name), status, retain=True)

    async def _check_every_while(self) -> None:
        while True:
            await asyncio.sleep(STATUS_CHECK_S)
            try:
                self.check_statuses()
            except Exception:  # a rig that cannot say its state now is asked again later
                log.exception("mqtt: checking the rigs' status failed")
