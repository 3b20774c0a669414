"""Byte relay between the device and host pty masters, through the fault injector (CPython)."""

import collections
import errno
import heapq
import itertools
import os
import select
import threading
import time

from hil_sim.faults import DOWN, UP

_READ_SIZE = 65536
_HUP = select.POLLHUP | select.POLLERR | select.POLLNVAL


class _Pipe:
    """One direction: bytes read from src wait in a queue until their release time."""

    def __init__(self, direction, src_fd, dst_fd):
        self.direction = direction
        self.src_fd = src_fd
        self.dst_fd = dst_fd
        self.queue = collections.deque()  # [release wall s, memoryview of what is left]
        self.queued_bytes = 0

    def clear(self):
        n = self.queued_bytes
        self.queue.clear()
        self.queued_bytes = 0
        return n


class Relay:
    """Copies bytes both ways between two pty masters in one thread, through a FaultInjector.

    The device end is always present (the launcher keeps its slave open); the host end is
    present only while someone has the host slave open, and bytes for an absent host or a
    device that is down are discarded and counted, as on an unplugged cable. Otherwise the
    relay loses nothing the injector does not drop: when queue_limit_bytes wait for a slow
    reader, it stops reading that direction's source, so the writer blocks, as on a USB CDC
    port that is open but not read. The same thread runs the launcher's timers (call_later)
    and fd watches (watch); those callbacks must not block.
    """

    HOST_CHECK_S = 0.02

    def __init__(self, device_fd, host_fd, injector,
                 queue_limit_bytes=1 << 18):
        self.injector = injector
        self.queue_limit_bytes = queue_limit_bytes
        self._device_fd = device_fd
        self._host_fd = host_fd
        self._pipes = (_Pipe(UP, device_fd, host_fd), _Pipe(DOWN, host_fd, device_fd))
        self._present = {device_fd: True, host_fd: False}
        self._next_host_check_s = 0.0
        self.stats = dict.fromkeys(
            [d + "_discarded_bytes" for d in (UP, DOWN)], 0)
        self._timers = []
        self._timer_ids = itertools.count()
        self._watches = {}
        self._soon = collections.deque()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        for fd in (device_fd, host_fd):
            os.set_blocking(fd, False)
        self._stopping = False
        self._thread = None
        self.error = None  # an exception that ended the loop, if any

    # ---- API for the launcher ----------------------------------------------------------

    def start(self):
        self._thread = threading.Thread(target=self._run, name="hil-relay", daemon=True)
        self._thread.start()

    def stop(self, timeout_s=5.0):
        """End the loop thread and close the wake pipe (not the pty fds: the caller owns them)."""
        self._stopping = True
        self._wake()
        if self._thread is not None:
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                raise RuntimeError(f"relay thread did not stop within {timeout_s:.1f} s")
            self._thread = None
        for fd in (self._wake_r, self._wake_w):
            os.close(fd)
        self._wake_r = self._wake_w = -1

    @property
    def alive(self):
        return self._thread is not None and self._thread.is_alive()

    def call_soon_threadsafe(self, callback):
        """Run callback() in the relay thread soon; callable from any thread."""
        self._soon.append(callback)
        self._wake()

    def call_later(self, delay_s, callback):
        """Run callback() in the relay thread after delay_s wall seconds (relay thread only)."""
        heapq.heappush(self._timers, (time.monotonic() + delay_s, next(self._timer_ids), callback))

    def watch(self, fd, callback):
        """Call callback() in the relay thread whenever fd is readable (relay thread only,
        or before start)."""
        self._watches[fd] = callback

    def unwatch(self, fd):
        self._watches.pop(fd, None)

    def set_device_present(self, present):
        """Whether the device process is up; while it is not, bytes for it are discarded."""
        self._present[self._device_fd] = present
        if not present:
            self.stats[DOWN + "_discarded_bytes"] += self._pipes[1].clear()

    def host_present(self):
        return self._present[self._host_fd]

    # ---- loop --------------------------------------------------------------------------

    def _wake(self):
        try:
            os.write(self._wake_w, b"\x00")
        except (BlockingIOError, OSError):
            pass  # already awake, or stopped

    def _run(self):
        try:
            self._loop()
        except BaseException as exc:  # surfaced through .error and the launcher's stats
            self.error = exc
            raise

    def _loop(self):
        poller = select.poll()
        registered = set()
        while not self._stopping:
            now = time.monotonic()
            self._service(now)
            wanted = {self._wake_r: select.POLLIN}
            for fd in self._watches:
                wanted[fd] = select.POLLIN
            for pipe in self._pipes:
                if self._present[pipe.src_fd] and pipe.queued_bytes < self.queue_limit_bytes:
                    wanted[pipe.src_fd] = wanted.get(pipe.src_fd, 0) | select.POLLIN
                if pipe.queue and pipe.queue[0][0] <= now and self._present[pipe.dst_fd]:
                    wanted[pipe.dst_fd] = wanted.get(pipe.dst_fd, 0) | select.POLLOUT
            for fd in registered - wanted.keys():
                poller.unregister(fd)
            for fd, mask in wanted.items():
                poller.register(fd, mask)
            registered = set(wanted)
            timeout_s = self._timeout_s(now)
            timeout_ms = -1 if timeout_s is None else max(0, int(timeout_s * 1000 + 0.999))
            for fd, mask in poller.poll(timeout_ms):
                self._on_event(fd, mask)

    def _timeout_s(self, now):
        deadlines = []
        for pipe in self._pipes:
            if pipe.queue and pipe.queue[0][0] > now:
                deadlines.append(pipe.queue[0][0])
        if self._timers:
            deadlines.append(self._timers[0][0])
        if not self._present[self._host_fd]:
            deadlines.append(self._next_host_check_s)
        if not deadlines:
            return None
        return max(0.0, min(deadlines) - now)

    def _on_event(self, fd, mask):
        if fd == self._wake_r:
            try:
                os.read(fd, 4096)
            except BlockingIOError:
                pass
            return
        callback = self._watches.get(fd)
        if callback is not None:
            callback()
            return
        if mask & select.POLLIN:
            self._read(fd)
        elif mask & _HUP and fd == self._host_fd:
            self._host_gone()
        # POLLOUT needs nothing here: the next pass of the loop writes what is due.

    def _read(self, fd):
        try:
            data = os.read(fd, _READ_SIZE)
        except BlockingIOError:
            return
        except OSError as exc:
            if exc.errno == errno.EIO and fd == self._host_fd:
                self._host_gone()
                return
            raise
        if not data:
            return
        pipe = self._pipes[0] if fd == self._device_fd else self._pipes[1]
        self._accept(pipe, data, time.monotonic())

    def _host_gone(self):
        """Nobody has the host slave open: stop reading it and discard what was meant for it."""
        self._present[self._host_fd] = False
        self.stats[UP + "_discarded_bytes"] += self._pipes[0].clear()
        self._next_host_check_s = time.monotonic() + self.HOST_CHECK_S

    def _check_host(self, now):
        """A pty master reports POLLHUP until some process opens its slave."""
        probe = select.poll()
        probe.register(self._host_fd, select.POLLIN)
        events = probe.poll(0)
        if events and events[0][1] & _HUP:
            self._next_host_check_s = now + self.HOST_CHECK_S
        else:
            self._present[self._host_fd] = True

    def _accept(self, pipe, data, now):
        injector = self.injector
        direction = pipe.direction
        if injector.cut_active(now):
            injector.count_cut(direction, len(data))
            return
        if not self._present[pipe.dst_fd]:
            self.stats[direction + "_discarded_bytes"] += len(data)
            return
        out = injector.transform(direction, data)
        if not out:
            return
        delay_s = injector.delay_s(direction)
        if delay_s:
            injector.count_delayed(direction, len(out))
        pipe.queue.append([now + delay_s, memoryview(out)])
        pipe.queued_bytes += len(out)

    def _service(self, now):
        """Run due callbacks and schedule entries, then write whatever is due."""
        while self._soon:
            self._soon.popleft()()
        while self._timers and self._timers[0][0] <= now:
            heapq.heappop(self._timers)[2]()
        if not self._present[self._host_fd] and now >= self._next_host_check_s:
            self._check_host(now)
        cut = self.injector.cut_active(now)
        for pipe in self._pipes:
            if cut:
                self.injector.count_cut(pipe.direction, pipe.clear())
            elif self._present[pipe.dst_fd]:
                self._flush(pipe, now)

    def _flush(self, pipe, now):
        queue = pipe.queue
        while queue and queue[0][0] <= now:
            chunk = queue[0][1]
            try:
                n = os.write(pipe.dst_fd, chunk)
            except BlockingIOError:
                return
            except OSError as exc:
                if exc.errno == errno.EIO and pipe.dst_fd == self._host_fd:
                    self._host_gone()
                    return
                raise
            pipe.queued_bytes -= n
            self.injector.count_out(pipe.direction, n)
            if n < len(chunk):
                queue[0][1] = chunk[n:]
                return
            queue.popleft()
