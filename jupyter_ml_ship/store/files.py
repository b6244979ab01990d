"""The store's files under the home: the runner's atomic-file helpers (``runner/_files.py``,
which a container's runner has without the store)."""

from ..runner._files import (
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_text,
    create_new,
    read_json,
    try_lock,
)

__all__ = ["atomic_write_bytes", "atomic_write_json", "atomic_write_text", "create_new",
           "read_json", "try_lock"]
