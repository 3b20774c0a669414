"""A run's live stream (server-sent events): what a client is sent, and when it is cut off.

The stream opens with `run`, carries `samples`, `progress`, `event` and `state` as the hub
publishes them, and ends with `end` when the run ends. A client that falls more than the
hub's bound behind gets `resync` (the first seq it will not get, and its t_s) after what it
was sent, and the stream closes: it reconnects and fetches the gap from the samples
endpoint. A client that is behind and reads nothing for RESYNC_GRACE_S is disconnected, so
that no reader keeps the service holding data for it.
"""

import asyncio
import logging
from typing import Any, AsyncIterator

from fastapi import Request
from fastapi.responses import StreamingResponse
from starlette.types import Message, Receive, Scope, Send

from host.live.fanout import Subscription, sse
from host.store.records import FINISHED_STATES

log = logging.getLogger(__name__)

SSE_KEEPALIVE_S = 15.0
RESYNC_GRACE_S = 10.0
WRITE_BYTES = 64 * 1024  # what queued events go out in one write, at most (one at least)


async def _events(run: dict[str, Any], subscription: Subscription,
                  request: Request) -> AsyncIterator[bytes]:
    try:
        yield sse("run", run)
        if run["state"] in FINISHED_STATES:
            yield sse("end", run)
            return
        queue = subscription.queue
        while True:
            if subscription.behind.is_set() and queue.empty():
                yield sse("resync", subscription.resync)
                return
            try:
                async with asyncio.timeout(SSE_KEEPALIVE_S):
                    kind, encoded = await subscription.get()
            except TimeoutError:
                if await request.is_disconnected():
                    return
                yield b": keep-alive\n\n"
                continue
            chunk = [encoded]
            size = len(encoded)
            while kind != "end" and size < WRITE_BYTES and not queue.empty():
                kind, encoded = subscription.take()
                chunk.append(encoded)
                size += len(encoded)
            yield b"".join(chunk)
            if kind == "end":
                return
    finally:
        subscription.close()


class LiveStream(StreamingResponse):
    """The SSE response of one client; once the client is behind, it is closed as soon as
    RESYNC_GRACE_S pass without it reading anything (a slow reader gets to its `resync`, a
    stalled one is dropped)."""

    def __init__(self, run: dict[str, Any], subscription: Subscription, request: Request):
        super().__init__(_events(run, subscription, request), media_type="text/event-stream",
                         headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        self.subscription = subscription
        self._sent_at = 0.0  # loop time of the last write the client took

    async def _stalled(self) -> None:
        """Returns once the client is behind and has taken no write for RESYNC_GRACE_S."""
        await self.subscription.behind.wait()
        loop = asyncio.get_running_loop()
        quiet_since = loop.time()
        while True:
            await asyncio.sleep(quiet_since + RESYNC_GRACE_S - loop.time())
            if self._sent_at <= quiet_since:
                return
            quiet_since = self._sent_at

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        loop = asyncio.get_running_loop()

        async def timed_send(message: Message) -> None:
            await send(message)
            self._sent_at = loop.time()

        streaming = asyncio.ensure_future(super().__call__(scope, receive, timed_send))
        stalled = asyncio.ensure_future(self._stalled())
        try:
            await asyncio.wait((streaming, stalled), return_when=asyncio.FIRST_COMPLETED)
        finally:
            stalled.cancel()
            if not streaming.done():
                streaming.cancel()
                log.info("live stream of run %d: the client fell behind and stopped reading; "
                         "disconnected", self.subscription.run_id)
            await asyncio.gather(streaming, stalled, return_exceptions=True)
            self.subscription.close()
        if not streaming.cancelled() and streaming.exception() is not None:
            raise streaming.exception()  # type: ignore[misc]
