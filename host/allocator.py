"""The C heap of a long-running service: few arenas, and freed memory handed back.

glibc gives each thread that allocates its own arena and keeps what a thread freed for
that thread's next use. A service that summarises a 10^5-sample run in a worker thread
(megabytes of arrays, for a second) would then hold those megabytes in every worker's
arena for good, and its memory would depend on which thread did the work. Two arenas,
and a trim after each such burst, keep the service's figure that of what it holds.
Elsewhere than glibc (macOS, musl) both calls do nothing.
"""

import ctypes
import ctypes.util
import logging

log = logging.getLogger(__name__)

M_ARENA_MAX = -8  # mallopt parameter (glibc malloc.h)
ARENAS = 2


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
    except OSError:
        return None
    if not hasattr(libc, "malloc_trim") or not hasattr(libc, "mallopt"):
        return None  # not glibc
    return libc


_LIBC = _libc()


def limit_arenas(arenas: int = ARENAS) -> bool:
    """Cap the C heap's arenas (call before worker threads start); True when it applied."""
    if _LIBC is None:
        return False
    applied = bool(_LIBC.mallopt(M_ARENA_MAX, arenas))
    if not applied:
        log.warning("mallopt(M_ARENA_MAX, %d) refused: each thread keeps its own heap", arenas)
    return applied


def give_back() -> bool:
    """Return the C heap's free pages to the system (after a burst of work); True when some
    memory was released."""
    if _LIBC is None:
        return False
    return bool(_LIBC.malloc_trim(0))
