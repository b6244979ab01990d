"""Building a version's image once: skipped when it exists, serialized per tag, output streamed."""

from __future__ import annotations

import fcntl
import hashlib
import re
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .context import BuildPlan, proxy_buildargs
from .engine import LABEL_BUILD, short_error

#: an hour without a line of build output is a hung build
BUILD_READ_TIMEOUT = 3600
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_ERROR_LINE = re.compile(r"^\s*(ERROR:|error:|×|╰─▶|Because |No matching distribution|"
                         r"Could not find a version|HTTP error|.*CERTIFICATE_VERIFY_FAILED)")


class BuildFailed(Exception):
    """The image could not be built; the message says why in one or a few lines."""


def _lock_path(locks_dir: Path, tag: str) -> Path:
    locks_dir.mkdir(parents=True, exist_ok=True)
    return locks_dir / (hashlib.sha256(tag.encode()).hexdigest()[:24] + ".lock")


def existing_image(client: Any, tag: str) -> Any | None:
    import docker.errors

    try:
        return client.images.get(tag)
    except docker.errors.ImageNotFound:
        return None


def _reason(tail: deque[str], error: str) -> str:
    """The tool's own message (pip/uv) from the last lines of output, else docker's error."""
    lines = list(tail)
    for i, line in enumerate(lines):
        if _ERROR_LINE.match(line):
            picked = [ln.strip() for ln in lines[i:i + 6] if ln.strip()]
            return " ".join(picked)[:800]
    return error.strip()[:800]


def ensure_image(
    client: Any,
    plan: BuildPlan,
    log: Callable[[str], None],
    locks_dir: Path,
    *,
    nocache: bool = False,
) -> tuple[str, bool]:
    """Make sure ``plan.tag`` exists and matches the plan; ``(tag, built)``. Raises BuildFailed.
    A big project is built in two (``BuildPlan.split``): its files image first (once), then the
    version's image from it, with only the notebook in the context."""
    if plan.split:
        ensure_image(client, plan.files_stage(), log, locks_dir, nocache=nocache)
        plan = plan.notebook_stage()
    tag = plan.tag
    key = plan.build_key()
    with open(_lock_path(locks_dir, tag), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a concurrent build of the same tag finishes first
        image = existing_image(client, tag)
        if image is not None and not nocache and image.labels.get(LABEL_BUILD) == key:
            log(f"[ml-ship] image {tag} is up to date: nothing to build")
            return tag, False
        why = "rebuilding (its inputs changed)" if image is not None else "building"
        log(f"[ml-ship] {why} image {tag}: {plan.describe()}")
        started = time.monotonic()
        tail: deque[str] = deque(maxlen=40)
        pending = ""
        try:
            with plan.context_tar(plan.labels(key)) as context:
                stream = client.api.build(
                    fileobj=context, custom_context=True, tag=tag,
                    rm=True, forcerm=True, decode=True, nocache=nocache, pull=False,
                    network_mode="none" if plan.offline else None,
                    buildargs=proxy_buildargs() or None, timeout=BUILD_READ_TIMEOUT,
                )
                for chunk in stream:
                    if "stream" in chunk:
                        pending += _ANSI.sub("", chunk["stream"])
                        *lines, pending = pending.split("\n")
                        for line in lines:
                            log(line)
                            tail.append(line)
                    elif "error" in chunk:
                        if pending:
                            log(pending)
                            tail.append(pending)
                        log(f"[ml-ship] build error: {chunk['error'].strip()}")
                        raise BuildFailed(f"image build failed: {_reason(tail, chunk['error'])}")
        except BuildFailed:
            raise
        except Exception as exc:  # engine errors: no base image, engine gone, bad context
            raise BuildFailed(f"image build failed: {short_error(exc)}") from exc
        if pending:
            log(pending)
        log(f"[ml-ship] image {tag} built in {time.monotonic() - started:.1f} s")
        return tag, True
