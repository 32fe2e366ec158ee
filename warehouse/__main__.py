"""The ``supportlake`` command as a process: ``supportlake …`` and ``python -m warehouse …``.

:func:`warehouse.cli.main` is the command; :func:`run` is what a process that ends with it adds,
two things about Python's cyclic garbage collector that only such a process may do:

- **while the modules load** the collector is off (their many new objects set off collections
  that find no garbage: 0.55–0.61 s to import the command's modules without them, against
  0.65–0.74 s with them), and what they built is then frozen (``gc.freeze``), so the
  collections of the run itself no longer walk it;
- **after the command has returned** (every commit made, every connection and file closed by its
  own ``with``, the output written), what is left is frozen too: the interpreter's teardown then
  leaves to the operating system the memory it would otherwise free one cycle at a time.
  Measured on a 100k-ticket Zendesk sync: 0.37–0.48 s from the summary to the exit, 0.05–0.06 s
  frozen. ``atexit`` handlers (logging's flush, temporary folders) still run.

Nothing here runs when :func:`warehouse.cli.main` is called in-process (tests, a library user):
freezing there would keep a long-lived process's garbage for ever.
"""

from __future__ import annotations

import gc
import sys
from typing import NoReturn


def run() -> NoReturn:
    """``supportlake`` (the console script) and ``python -m warehouse``."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        from warehouse.cli import main
    finally:
        gc.freeze()
        if was_on:
            gc.enable()
    code = main()
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    run()
