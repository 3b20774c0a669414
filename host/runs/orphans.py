"""Runs a board holds that this service did not start: shown on the rig (never filed under a
run of ours), stopped or imported on request; a run this store already ended is stopped."""

import asyncio
from typing import Any

from host.link import LinkError, wire
from host.rigs import Rig
from host.runkey import board_text, key_text
from host.runs.adoption import BoardRun, StoredRun, board_run
from host.runs.book import RunBook
from host.runs.errors import RunError
from host.runs.kinds import kind_of_mode
from host.runs.lifecycle import Lifecycle
from host.store.records import Run
from protocol import names, schema


def stored_run(run: Run) -> StoredRun:
    """What the adoption rules need to know of a stored run."""
    return StoredRun(run.id, run.rig, run.board_id, run.finished)


class Orphans:
    """Keeps each rig's orphan in step with its board; stops and imports orphans."""

    def __init__(self, book: RunBook, lifecycle: Lifecycle):
        self.book = book
        self.lifecycle = lifecycle

    async def stop_orphan(self, rig_name: str) -> dict[str, Any]:
        """Stop the run the board holds for nobody here; the board makes its outputs safe."""
        rig = self.book.rig_named(rig_name)
        orphan = _orphan_of(rig)
        try:
            reply = await rig.link.acommand(schema.STOP_RUN, run_key=int(orphan["run_key"], 16))
            if not reply.ok:
                raise RunError(409, reply.error or "refused")
            status: Any = (await rig.link.acommand(schema.GET_STATUS)).message
        except LinkError as exc:
            raise RunError(503, "rig %s did not answer: %s" % (rig_name, exc)) from exc
        await self.book.event(rig, None, "orphan_stopped", "stopped run key %s, which this "
                              "service did not start" % orphan["run_key"],
                              {"run_key": orphan["run_key"]})
        self.note(rig, status)
        return {"rig": rig.name, "stopped": orphan, "orphan_run": rig.orphan}

    async def import_orphan(self, rig_name: str) -> Run:
        """File the board's orphan run as a new run (imported) and fetch every sample the
        board still holds; a running one is followed from then on like any other."""
        book = self.book
        rig = book.rig_named(rig_name)
        orphan = _orphan_of(rig)
        if rig.active_run_id is not None:
            raise RunError(409, "rig %s is busy with run %d" % (rig_name, rig.active_run_id))
        try:
            status: Any = (await rig.link.acommand(schema.GET_STATUS)).message
        except LinkError as exc:
            raise RunError(503, "rig %s did not answer: %s" % (rig_name, exc)) from exc
        key = int(orphan["run_key"], 16)
        if status.run_key != key:
            self.note(rig, status)
            raise RunError(409, "the rig no longer holds run key %s" % orphan["run_key"])
        kind = kind_of_mode(status.mode)
        if kind is None:
            raise RunError(409, "run key %s has no run mode the service knows (%d)"
                           % (orphan["run_key"], status.mode))
        calibration = await asyncio.to_thread(book.store.get_calibration, rig.name)
        run = await asyncio.to_thread(
            book.store.create_run, rig.name, kind.name, _imported_params(kind.name, status),
            calibration=calibration, run_key=key, board_id=board_text(rig.link.board_id),
            imported=True, state="running")
        rig.orphan = None
        tracker = self.lifecycle.adopt(run, rig)
        # Everything the board took is wanted, from seq 0 (the backfill asks for it; the
        # link passes re-sent samples it saw while nobody stored them).
        tracker.device_next_seq = status.next_seq
        await book.event(rig, key, "imported", "run key %s imported from the rig: %s, %d "
                         "samples taken, seq %d onward still held; its parameters are not "
                         "known here (defaults recorded)"
                         % (orphan["run_key"], names.MODE_NAMES[status.mode],
                            status.next_seq, status.oldest_seq),
                         {"run_key": orphan["run_key"], "next_seq": status.next_seq,
                          "oldest_seq": status.oldest_seq})
        if status.state != schema.STATE_RUNNING:
            tracker.stop_reason = status.stop_reason
            self.lifecycle.finish_soon(tracker)
        book.publish_state(run)
        return run

    async def note_board_run(self, rig: Rig, hello: Any) -> None:
        """A run the board holds that is not the one followed here: an orphan when this
        store never started it; stopped when this store has already ended it."""
        channel = wire.channel_record(hello)
        run_key = channel.run_key
        followed = self.book.tracker(rig, run_key)
        run = None
        if run_key and followed is None:
            run = await asyncio.to_thread(self.book.store.get_run_by_key, run_key)
        found = board_run(run_key, followed.run_key if followed else None,
                          stored_run(run) if run is not None else None,
                          channel.state == schema.STATE_RUNNING)
        if found is BoardRun.ORPHAN:
            self.note(rig, channel, fresh=True)
            assert rig.orphan is not None
            await self.book.event(rig, None, "orphan_run", (
                "the rig holds run key %s, which this service did not start (%s, %s, %d "
                "samples); nothing of it is stored: stop it (POST /api/rigs/%s/orphan/stop) "
                "or import it (POST /api/rigs/%s/orphan/import)"
                % (key_text(run_key), rig.orphan["mode"], rig.orphan["state"], channel.next_seq,
                   rig.name, rig.name)), dict(rig.orphan))
            return
        rig.orphan = None
        if found is BoardRun.ENDED_BUT_RUNNING:
            assert run is not None
            await self.lifecycle.stop_key(rig, run_key)
            await self.book.event(rig, None, "stopped_ended_run", (
                "the rig was still running run %d (key %s), which is %s here: stopped it"
                % (run.id, key_text(run_key), run.state)), {"run": run.id})

    def note(self, rig: Rig, seen: Any, fresh: bool = False) -> None:
        """Keep rig.orphan in step with what the board says (HELLO_ACK, HEARTBEAT, STATUS)."""
        current = rig.orphan
        if not fresh and (current is None or int(current["run_key"], 16) != seen.run_key):
            rig.orphan = None  # the board moved on to another run
            return
        mode = getattr(seen, "mode", None)
        rig.orphan = {
            "run_key": key_text(seen.run_key),
            "mode": (names.MODE_NAMES[mode] if mode is not None and 0 <= mode
                     < len(names.MODE_NAMES) else (current or {}).get("mode")),
            "state": (names.STATE_NAMES[seen.state] if 0 <= seen.state
                      < len(names.STATE_NAMES) else str(seen.state)),
            "next_seq": seen.next_seq,
            "board_id": board_text(rig.board_id),
        }


def _orphan_of(rig: Rig) -> dict[str, Any]:
    if rig.orphan is None:
        raise RunError(404, "rig %s holds no run that this service did not start" % rig.name)
    if not rig.link.connected:
        raise RunError(409, "rig %s is not connected" % rig.name)
    return rig.orphan


def _imported_params(kind: str, status: Any) -> dict[str, Any]:
    """Parameters recorded for an imported run: the kind's defaults, and for a lifetime the
    voltage the board holds (its program itself never crosses the wire back)."""
    if kind == "lifetime":
        return {"voltage_v": max(status.setpoint_mv, 1) / 1000}
    return {}
