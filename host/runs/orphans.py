"""Runs a board holds that this service did not start, one per channel: shown on the rig
(never filed under a run of ours), stopped or imported on request; a run this store already
ended is stopped on its channel."""

import asyncio
from typing import Any

from host.link import LinkError
from host.rigs import Rig, channel_text
from host.runkey import board_text, key_text
from host.runs.adoption import BoardRun, StoredRun, board_run
from host.runs.book import RunBook
from host.runs.errors import RunError
from host.runs.kinds import RunKind, kind_of_mode
from host.runs.lifecycle import Lifecycle, check_channel, check_free, orphan_actions
from host.store.records import Run
from protocol import names, schema


def stored_run(run: Run) -> StoredRun:
    """What the adoption rules need to know of a stored run."""
    return StoredRun(run.id, run.rig, run.board_id, run.finished)


class Orphans:
    """Keeps each rig's orphans (by channel) in step with its board; stops and imports them."""

    def __init__(self, book: RunBook, lifecycle: Lifecycle):
        self.book = book
        self.lifecycle = lifecycle

    async def stop_orphan(self, rig_name: str, channel: int | None = None) -> dict[str, Any]:
        """Stop the run the board holds on a channel for nobody here; the board makes that
        channel's outputs safe. channel: None for the only orphan the rig has."""
        rig = self.book.rig_named(rig_name)
        channel = orphan_channel(rig, channel)
        orphan = rig.orphans[channel]
        try:
            reply = await rig.link.acommand(schema.STOP_RUN, run_key=int(orphan["run_key"], 16),
                                            channel=channel)
        except LinkError as exc:
            raise RunError(503, "rig %s did not answer: %s" % (rig_name, exc)) from exc
        if not reply.ok:
            raise RunError(409, reply.error or "refused")
        status = await _status(rig, channel)
        await self.book.event(rig, None, "orphan_stopped", "stopped run key %s on channel %d, "
                              "which this service did not start" % (orphan["run_key"], channel),
                              {"run_key": orphan["run_key"], "channel": channel})
        self.note(rig, status)
        return {"rig": rig.name, "stopped": orphan, "orphan_run": rig.orphans.get(channel)}

    async def import_orphan(self, rig_name: str, channel: int | None = None) -> Run:
        """File the orphan run of a channel as a new run (imported) on that channel and fetch
        every sample the board still holds; a running one is followed from then on like any
        other. Other channels' runs go on meanwhile."""
        book = self.book
        rig = book.rig_named(rig_name)
        channel = orphan_channel(rig, channel)
        orphan = rig.orphans[channel]
        check_free(rig, channel)
        status = await _status(rig, channel)
        kind = self._still_held(rig, orphan, status)
        key = status.run_key
        calibration = await asyncio.to_thread(book.store.get_calibration, rig.name)
        run = await asyncio.to_thread(
            book.store.create_run, rig.name, kind.name, _imported_params(kind.name, status),
            calibration=calibration, run_key=key, board_id=board_text(rig.link.board_id),
            imported=True, state="running", channel=channel)
        rig.orphans.pop(channel, None)
        tracker = self.lifecycle.adopt(run, rig)
        # Everything the board took is wanted, from seq 0 (the backfill asks for it; the
        # link passes re-sent samples it saw while nobody stored them).
        tracker.device_next_seq = status.next_seq
        await book.event(rig, key, "imported", "run key %s imported from %s: %s, %d samples "
                         "taken, seq %d onward still held; its parameters are not known here "
                         "(defaults recorded)"
                         % (orphan["run_key"], channel_text(rig.name, channel),
                            names.MODE_NAMES[status.mode], status.next_seq, status.oldest_seq),
                         {"run_key": orphan["run_key"], "channel": channel,
                          "next_seq": status.next_seq, "oldest_seq": status.oldest_seq})
        if status.state != schema.STATE_RUNNING:
            tracker.stop_reason = status.stop_reason
            self.lifecycle.finish_soon(tracker)
        book.publish_state(run)
        return run

    def _still_held(self, rig: Rig, orphan: dict[str, Any], status: Any) -> RunKind:
        """The kind of run an orphan is, once its channel's STATUS shows the board still holds
        it (409 when it holds another run there, or one of a mode the service does not run)."""
        if status.run_key != int(orphan["run_key"], 16):
            self.note(rig, status)
            raise RunError(409, "%s no longer holds run key %s"
                           % (channel_text(rig.name, orphan["channel"]), orphan["run_key"]))
        kind = kind_of_mode(status.mode)
        if kind is None:
            raise RunError(409, "run key %s has no run mode the service knows (%d)"
                           % (orphan["run_key"], status.mode))
        return kind

    async def note_board_run(self, rig: Rig, hello: Any) -> None:
        """What each channel of a board that has just shaken hands holds, beside the runs
        followed there; an orphan of a channel the board no longer has is forgotten."""
        told = {record.channel for record in hello.records}
        for channel in set(rig.orphans) - told:
            del rig.orphans[channel]
        for record in hello.records:
            await self._note_channel_run(rig, record)

    async def _note_channel_run(self, rig: Rig, record: Any) -> None:
        """A run a channel holds that is not the one followed there: an orphan when this store
        never started it; stopped on that channel when this store has already ended it."""
        run_key = record.run_key
        followed = self.book.tracker(rig, run_key)
        run = None
        if run_key and followed is None:
            run = await asyncio.to_thread(self.book.store.get_run_by_key, run_key)
        found = board_run(run_key, followed.run_key if followed else None,
                          stored_run(run) if run is not None else None,
                          record.state == schema.STATE_RUNNING)
        if found is BoardRun.ORPHAN:
            orphan = self.note(rig, record, fresh=True)
            await self.book.event(rig, None, "orphan_run", (
                "%s holds run key %s, which this service did not start (%s, %s, %d samples); "
                "nothing of it is stored: %s"
                % (channel_text(rig.name, record.channel), key_text(run_key), orphan["mode"],
                   orphan["state"], record.next_seq, orphan_actions(rig.name, record.channel))),
                dict(orphan))
            return
        rig.orphans.pop(record.channel, None)
        if found is BoardRun.ENDED_BUT_RUNNING:
            assert run is not None
            await self.lifecycle.stop_key(rig, run_key, record.channel)
            await self.book.event(rig, None, "stopped_ended_run", (
                "%s was still running run %d (key %s), which is %s here: stopped it"
                % (channel_text(rig.name, record.channel), run.id, key_text(run_key),
                   run.state)), {"run": run.id, "channel": record.channel})

    def note(self, rig: Rig, seen: Any, fresh: bool = False) -> dict[str, Any] | None:
        """Keep the orphan of the channel `seen` tells of (a HELLO_ACK's or HEARTBEAT's
        record, a STATUS) in step with the board; fresh: it is an orphan, known or not. The
        channel's orphan now, None when the board moved on to another run there."""
        current = rig.orphans.get(seen.channel)
        if not fresh and (current is None or int(current["run_key"], 16) != seen.run_key):
            rig.orphans.pop(seen.channel, None)
            return None
        mode = getattr(seen, "mode", None)
        rig.orphans[seen.channel] = {
            "channel": seen.channel,
            "run_key": key_text(seen.run_key),
            "mode": (names.MODE_NAMES[mode] if mode is not None and 0 <= mode
                     < len(names.MODE_NAMES) else (current or {}).get("mode")),
            "state": (names.STATE_NAMES[seen.state] if 0 <= seen.state
                      < len(names.STATE_NAMES) else str(seen.state)),
            "next_seq": seen.next_seq,
            "board_id": board_text(rig.board_id),
        }
        return rig.orphans[seen.channel]


def orphan_channel(rig: Rig, channel: int | None) -> int:
    """The channel whose orphan a request means: the one it names (422 for a channel the
    board lacks, 404 when that one holds none), else the rig's only orphan's (404 with none,
    409 with several: the request must say which); 409 while the rig is not connected."""
    if channel is None:
        channel = _only_orphan_channel(rig)
    else:
        check_channel(rig, None, channel)
    if channel not in rig.orphans:
        raise RunError(404, "rig %s holds no run on channel %d that this service did not "
                       "start" % (rig.name, channel))
    if not rig.link.connected:
        raise RunError(409, "rig %s is not connected" % rig.name)
    return channel


def _only_orphan_channel(rig: Rig) -> int:
    channels = sorted(rig.orphans)
    if not channels:
        raise RunError(404, "rig %s holds no run that this service did not start" % rig.name)
    if len(channels) > 1:
        raise RunError(409, "rig %s holds runs this service did not start on channels %s: "
                       "name one (?channel=K)"
                       % (rig.name, ", ".join(str(c) for c in channels)))
    return channels[0]


async def _status(rig: Rig, channel: int) -> Any:
    """The board's STATUS of one channel (503 when it does not answer)."""
    try:
        return (await rig.link.acommand(schema.GET_STATUS, channel=channel)).message
    except LinkError as exc:
        raise RunError(503, "rig %s did not answer: %s" % (rig.name, exc)) from exc


def _imported_params(kind: str, status: Any) -> dict[str, Any]:
    """Parameters recorded for an imported run: the kind's defaults, and for a lifetime the
    voltage the board holds (its program itself never crosses the wire back)."""
    if kind == "lifetime":
        return {"voltage_v": max(status.setpoint_mv, 1) / 1000}
    return {}
