"""Forking a child that runs one function and exits, never returning into its parent's code.

Used by the warm runner (a runner or a scheduler per request) and by a warm runner's first
kernel. The child's exit code is what the function returns (``sys.exit`` codes as Python maps
them); an exception is printed to the child's stderr. Either way the child leaves through
``os._exit`` after flushing its streams, so no ``atexit`` handler or ``finally`` of the parent
runs twice.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass


def fork_into(body: Callable[[], int]) -> int:
    """In the parent: the child's pid. In the child: ``body()``, then exit with its code."""
    _flush()  # buffered output is written once, by the parent
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        code = body()
    except SystemExit as exc:
        code = 0 if exc.code is None else exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        _flush()
        os._exit(code)
