"""Waits of the tests and the benchmarks: poll a condition until a deadline (never a bare sleep),
and a free port on 127.0.0.1 for a server a test starts."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def until(check: Callable[[], Any], timeout: float = 60.0, what: str = "the condition",
          log: Path | None = None, every: float = 0.1) -> Any:
    """``check()``'s first true value, polled every ``every`` seconds; after ``timeout`` seconds
    an AssertionError naming ``what``, with the tail of ``log`` (a server's, an agent's) if any."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    tail = f"\n{log.read_text()[-4000:]}" if log and log.exists() else ""
    raise AssertionError(f"timed out waiting for {what} ({timeout} s){tail}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
