"""Process helpers shared by the runner, its warm server and the backends that start it."""

from __future__ import annotations


def start_time(pid: int) -> str | None:
    """Kernel start time of a process (field 22 of /proc/PID/stat), to tell a reused pid apart;
    None when it is gone (or a zombie)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    if fields[0] in ("Z", "X"):  # zombie or dead: finished
        return None
    return fields[19]
