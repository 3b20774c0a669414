"""Running the self-test on a rig: the quick checks at every handshake (nothing moves, tens
of ms per channel), the full test on request, each on every channel of the board in turn;
the rig keeps the result, and a run that needs a part its last result failed on its channel
(or one of the rig's own) is refused before it starts."""

import asyncio
import contextlib
import datetime
import logging
from typing import Any

from host.link import LinkError
from host.rigs import Rig, channel_text
from host.runs.errors import RunError
from host.selftest import report
from protocol import schema

log = logging.getLogger(__name__)

# Wall seconds per try. The full test waits for the shutter both ways (at most the board's
# timeout each) and converts on every photodiode range: about 0.3 s on the reference board.
QUICK_TIMEOUT_S = 2.0
FULL_TIMEOUT_S = 5.0
TRIES = 2  # a retry has the same cmd_id: the board answers it from its reply cache


def _now_text() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds").replace(
        "+00:00", "Z")


async def _run(rig: Rig, scope: int) -> dict[str, Any]:
    """Run the self-test now and keep its result on the rig."""
    link = rig.link
    if rig.active_run_id is not None:
        raise RunError(409, "rig %s is busy with run %d: the self-test runs between runs"
                       % (rig.name, rig.active_run_id))
    if link is None or not link.connected:
        state = "no link" if link is None else (link.snapshot().get("detail") or link.state)
        raise RunError(409, "rig %s is not connected (%s)" % (rig.name, state))
    timeout_s = FULL_TIMEOUT_S if scope == schema.SELFTEST_FULL else QUICK_TIMEOUT_S
    at = _now_text()
    for channel in sorted(link.channel_can) or [0]:
        try:
            reply = await link.acommand(schema.SELF_TEST, channel=channel, scope=scope,
                                        timeout_s=timeout_s, tries=TRIES)
        except LinkError as exc:
            raise RunError(503, "%s did not answer the self-test: %s"
                           % (channel_text(rig.name, channel), exc)) from exc
        if not reply.ok:
            raise RunError(409, reply.error or "refused")
        result = report.result_dict(rig.name, link.board_id, reply.message, at)
        rig.selftest = report.merged(rig.selftest, result)
    return rig.selftest


def _start(rig: Rig, scope: int) -> "asyncio.Task[dict[str, Any]]":
    task = asyncio.create_task(_run(rig, scope), name="selftest-%s" % rig.name)
    task.add_done_callback(_log_outcome)
    rig.selftest_task = task
    return task


async def settled(rig: Rig) -> None:
    """Wait for a self-test in flight on the rig, if any (its own command timeout bounds
    the wait); its failure is its caller's to report."""
    task = rig.selftest_task
    if task is not None and not task.done():
        with contextlib.suppress(Exception):
            await asyncio.shield(task)


async def run_full(rig: Rig) -> dict[str, Any]:
    """POST /api/rigs/{rig}/selftest: the full test, after any one in flight; the rig's
    result (RunError 409 when it is busy or not connected, 503 when it does not answer).
    A client that goes away does not cut it short."""
    await settled(rig)
    return await asyncio.shield(_start(rig, schema.SELFTEST_FULL))


def after_handshake(rig: Rig, hello: Any) -> None:
    """The quick test once a board has shaken hands, unless it is running a run (or the
    service follows one there): a broken board is then refused before a run, not after."""
    running = any(channel.state == schema.STATE_RUNNING for channel in hello.records)
    if running or rig.active_run_id is not None:
        return
    if rig.selftest_task is not None and not rig.selftest_task.done():
        return
    _start(rig, schema.SELFTEST_QUICK)


def _log_outcome(task: "asyncio.Task[dict[str, Any]]") -> None:
    """Log how a self-test ended (its exception is retrieved here even when the request
    that started it has gone)."""
    if task.cancelled():
        return
    exc = task.exception()
    if exc is not None:
        log.info("%s not done: %s", task.get_name(), exc)
        return
    result = task.result()
    if not result["passed"]:
        log.warning("rig %s: self-test failed %s", result["rig"], ", ".join(result["failed"]))


async def refusal(rig: Rig, kind: str, parts: tuple[str, ...], channel: int = 0) -> str | None:
    """Why a run of this kind (needing these parts) cannot start on the rig's channel, from
    its last self-test (waited for when one is in flight), or None."""
    await settled(rig)
    board_id = rig.link.board_id if rig.link is not None else None
    return report.refusal(rig.selftest, parts, "%s cannot start a %s run"
                          % (channel_text(rig.name, channel), kind), board_id, channel)
