"""The runs a service follows, by id and by run key, with the store and live fan-out they share.

Every part of the run manager reads the same book: which run each rig's channel is busy with, which
tracker a run key on a rig belongs to, and how an event of a run is recorded and published.
"""

import asyncio
from typing import Any

from host import lab
from host.live.fanout import Hub
from host.rigs import Rig
from host.runs import eventtext
from host.runs.errors import RunError
from host.runs.tracker import Tracker
from host.store import Store
from host.store.records import Run


class RunBook:
    """The followed runs (trackers), the store, the hub and the rigs they run on."""

    def __init__(self, store: Store, hub: Hub, rigs: dict[str, Rig], site: str = ""):
        """site: this service's site in the lab (host.lab)."""
        self.store = store
        self.hub = hub
        self.rigs = rigs
        self.site = site
        self.trackers: dict[int, Tracker] = {}
        self._by_key: dict[int, Tracker] = {}

    def enter(self, run: Run, rig: Rig, next_seq: int = 0) -> Tracker:
        """Follow run on rig from now; next_seq: the first seq not stored yet."""
        tracker = Tracker(run, rig, next_seq)
        self.trackers[run.id] = tracker
        self._by_key[tracker.run_key] = tracker
        rig.active_runs[tracker.channel] = run.id
        rig.followed[tracker.channel] = tracker
        return tracker

    def leave(self, tracker: Tracker) -> None:
        """The run has ended: nobody follows it any more, its rig is free."""
        run_id = tracker.run.id
        self.trackers.pop(run_id, None)
        if self._by_key.get(tracker.run_key) is tracker:
            del self._by_key[tracker.run_key]
        if tracker.rig.active_runs.get(tracker.channel) == run_id:
            del tracker.rig.active_runs[tracker.channel]
        if tracker.rig.followed.get(tracker.channel) is tracker:
            del tracker.rig.followed[tracker.channel]

    def rig_named(self, rig_name: str) -> Rig:
        """The rig a request names; 409 naming its site for a rig another site of the lab
        serves, 404 naming the rigs there are when there is none."""
        rig = self.rigs.get(rig_name)
        if rig is None:
            elsewhere = lab.served_elsewhere(self.store, rig_name, self.site)
            if elsewhere is not None:
                raise RunError(409, elsewhere)
            raise RunError(404, "no rig named %r; rigs: %s" % (rig_name, ", ".join(self.rigs)))
        return rig

    def following(self, tracker: Tracker) -> bool:
        return tracker.run.id in self.trackers

    def tracker(self, rig: Rig, run_key: int) -> Tracker | None:
        """The followed run with this key on this rig, if any."""
        tracker = self._by_key.get(run_key) if run_key else None
        return tracker if tracker is not None and tracker.rig is rig else None

    def active(self, rig: Rig, channel: int = 0) -> Tracker | None:
        """The run on the rig's channel, if this service follows one there."""
        run_id = rig.active_runs.get(channel)
        return self.trackers.get(run_id) if run_id is not None else None

    def actives(self, rig: Rig) -> list[Tracker]:
        """Every run this service follows on the rig, by channel."""
        return [tracker for _, run_id in sorted(rig.active_runs.items())
                if (tracker := self.trackers.get(run_id)) is not None]

    def edited(self, run: Run) -> None:
        """A run's labels were edited: a followed run's tracker takes the new copy, so its
        rig card names the device as it is called now."""
        tracker = self.trackers.get(run.id)
        if tracker is not None:
            tracker.run = run

    def publish_state(self, run: Run) -> None:
        self.hub.publish(run.id, "state", run.as_dict(calibration=False))

    async def event(self, rig: Rig, run_key: int | None, name: str, message: str,
                    data: dict | None = None, code: int | None = None,
                    key: str | None = None, run_id: int | None = None) -> None:
        """Record an event of the followed run with run_key on rig (of the rig alone when
        no run of ours has that key, unless run_id names an ended run it belongs to) and
        publish it live."""
        tracker = self.tracker(rig, run_key) if run_key else None
        if tracker is not None:
            run_id = tracker.run.id
        event = await asyncio.to_thread(self.store.add_event, name, message, rig=rig.name,
                                        run_id=run_id, code=code, data=data, key=key)
        if event is not None and tracker is not None:
            said = event.as_dict()
            said["text"] = eventtext.texts([said], tracker.run.as_dict())[0]
            self.hub.publish(tracker.run.id, "event", said)

    async def update(self, tracker: Tracker, **fields: Any) -> Run:
        """Write fields of the tracker's run and keep the tracker's copy in step."""
        tracker.run = await asyncio.to_thread(self.store.update_run, tracker.run.id, **fields)
        return tracker.run
