"""The HTTP server's one bound the ASGI app cannot set: the size of a request head.

httptools (uvicorn's parser) reads a request line and headers of any size before the app
sees them, so a client could make the service hold megabytes per connection. This protocol
answers 431 and closes the connection once a head passes HEAD_LIMIT_BYTES, before reading
the rest. Bodies are bounded by the app (413 above its body limit).
"""

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HEAD_LIMIT_BYTES = 64 * 1024


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with request heads capped at HEAD_LIMIT_BYTES."""

    _head_bytes = 0
    _in_head = True

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_bytes = 0
        self._in_head = True

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def data_received(self, data: bytes) -> None:
        was_in_head = self._in_head
        super().data_received(data)
        if not (was_in_head and self._in_head) or self.transport.is_closing():
            return
        self._head_bytes += len(data)
        if self._head_bytes > HEAD_LIMIT_BYTES:
            self._refuse_head()

    def _refuse_head(self) -> None:
        message = b"request head over %d bytes" % HEAD_LIMIT_BYTES
        self.transport.write(b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
                             b"content-type: text/plain; charset=utf-8\r\n"
                             b"content-length: %d\r\nconnection: close\r\n\r\n%s"
                             % (len(message), message))
        self.transport.close()
