"""Request body size limit: a huge body is refused before it is read into memory."""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_BYTES = 2 * 1024 * 1024


class BodyLimit:
    """Reads the whole body (at most max_bytes) before the app sees it, then replays it.

    A declared Content-Length over the limit is refused at once; a body sent without one
    (chunked) is refused as soon as it passes the limit. Either way the answer is a 413
    from here: an error raised while the app reads its body would reach the client as a
    400 'error parsing the body' instead.
    """

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await _refuse(send, self.max_bytes)
            return
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                first = message  # the client left before the body ended: pass that on
                break
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > self.max_bytes:
                await _refuse(send, self.max_bytes)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                first = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return first
            return await receive()  # after the body: http.disconnect, when it comes

        await self.app(scope, replay, send)


async def _refuse(send: Send, max_bytes: int) -> None:
    body = (b'{"detail": "request body larger than %d bytes: send less (a spectrum of a few '
            b'thousand points fits)"}' % max_bytes)
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
