"""Connecting to the Docker engine: short timeouts for checks, readable reasons for failures."""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import docker

DEFAULT_HOST = "unix:///var/run/docker.sock"

#: label keys shared by images and containers
LABEL_JOB = "ml-ship.job"
LABEL_VERSION = "ml-ship.version"
LABEL_DIGEST = "ml-ship.digest"
LABEL_LOCK = "ml-ship.lock"
LABEL_BUILD = "ml-ship.build"
LABEL_RUN = "ml-ship.run"


def engine_url(docker_host: str = "") -> str:
    return docker_host or os.environ.get("DOCKER_HOST") or DEFAULT_HOST


def connect(docker_host: str = "", timeout: float | None = 60) -> docker.DockerClient:
    """A client for the engine (no request is made yet)."""
    import docker

    # docker hands the timeout to requests (a float, or None for none); its stubs say int
    return docker.DockerClient(base_url=engine_url(docker_host),
                               timeout=timeout)  # type: ignore[arg-type]


def short_error(exc: BaseException) -> str:
    """One readable line for a docker/requests exception (no nested reprs of pools)."""
    text = str(getattr(exc, "explanation", None) or exc)
    m = re.search(r"\[Errno -?\d+\] ([^'\")]+)", text)
    if m:
        text = m.group(1)
    elif "Connection aborted" in text or "Max retries" in text:
        text = "connection refused or aborted"
    return text.strip().splitlines()[0][:300] if text.strip() else type(exc).__name__


def ping(docker_host: str = "", timeout: float = 3.0) -> tuple[Any | None, str]:
    """``(client, "")`` when the engine answers, else ``(None, reason)``."""
    url = engine_url(docker_host)
    try:
        client = connect(docker_host, timeout)
        client.ping()
    except Exception as exc:  # DockerException, requests errors, socket errors
        return None, f"Docker engine not reachable at {url}: {short_error(exc)}"
    return client, ""


def run_container(client: Any, run_id: str) -> Any | None:
    """The container of a run, found by its ``ml-ship.run`` label (how re-attaching works)."""
    import docker.errors

    for found in client.containers.list(all=True, sparse=True,
                                        filters={"label": f"{LABEL_RUN}={run_id}"}):
        try:
            return client.containers.get(found.id)
        except docker.errors.NotFound:
            continue
    return None


def memory_bytes(value: str | int | float | None) -> int:
    """``"512m"``, ``"1.5Gi"``, ``"2GB"`` or a number of bytes -> bytes (0: no limit)."""
    if value in (None, "", 0):
        return 0
    if isinstance(value, (int, float)):
        return int(value)
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmMgGtT]?)(i?)[bB]?\s*", str(value))
    if not m:
        raise ValueError(f"memory {value!r} is not a size like 512m, 2Gi or 1073741824")
    power = " kmgt".index(m.group(2).lower() or " ")
    return int(float(m.group(1)) * 1024**power)


def human_bytes(n: int) -> str:
    """``209715200`` -> ``"200 MiB"``."""
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if size == int(size) else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # pragma: no cover
