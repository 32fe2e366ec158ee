"""Pages fetched ahead, and the garbage collector paused while pages are parsed and written.

Both serve the hot path of a sync (:func:`connectors.endpoints.walk`): the next page's request and
parse overlap the writing of the current one, and collections that would walk every live object
of the process for each burst of ~100k acyclic page objects do not run.
"""

from __future__ import annotations

import gc
import queue
import threading
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")

_DONE = object()


def prefetched(pages: Generator[T, None, None], depth: int, name: str) -> Iterator[T]:
    """``pages`` produced by a thread up to ``depth`` ahead of the consumer, in order."""
    box: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                box.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for page in pages:
                if not put(page):
                    return
            put(_DONE)
        except BaseException as exc:  # handed to the consumer, raised there in order
            put(exc)
        finally:
            pages.close()

    thread = threading.Thread(target=produce, name=f"prefetch {name}", daemon=True)
    thread.start()
    try:
        while True:
            item = box.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        # A producer inside a request (or a retry's wait) ends it, sees the stop and exits; a
        # reader that failed does not wait for that.
        thread.join(timeout=1.0)


_gc_lock = threading.Lock()
_gc_pauses = [0, False]  # active pauses, whether the collector was on before the first


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a page is parsed (and, in :func:`walk
    <connectors.endpoints.walk>`, while pages are written). A page is ~100k new objects with no
    cycles among them, yet each burst of allocations triggers collections that walk every live
    object of a process full of dlt's modules: measured, this doubled the cost of parsing, and
    took 11 % of a 25k-ticket sync. Pauses nest and overlap (threads, interleaved resources):
    the collector is back on when the last one ends, if it was on before the first."""
    with _gc_lock:
        if _gc_pauses[0] == 0:
            _gc_pauses[1] = gc.isenabled()
            gc.disable()
        _gc_pauses[0] = int(_gc_pauses[0]) + 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses[0] = int(_gc_pauses[0]) - 1
            if _gc_pauses[0] == 0 and _gc_pauses[1]:
                gc.enable()
