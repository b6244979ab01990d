"""Listing and pruning job images (``ml-ship images [JOB]``, ``ml-ship images prune [JOB]``)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from .engine import LABEL_DIGEST, LABEL_JOB, LABEL_VERSION, short_error


def list_images(client: Any, job: str | None = None) -> list[dict[str, Any]]:
    """Job images, by job then newest version first."""
    label = f"{LABEL_JOB}={job}" if job else LABEL_JOB
    found = []
    for image in client.images.list(filters={"label": label}):
        labels = image.labels or {}
        tags = [t for t in image.tags if t.startswith("ml-ship/")]
        try:
            version = int(labels.get(LABEL_VERSION, "0"))
        except ValueError:
            version = 0
        found.append({
            "image": tags[0] if tags else f"(untagged) {image.short_id.split(':')[-1]}",
            "tags": tags,
            "id": image.id,
            "job": labels.get(LABEL_JOB, ""),
            "version": version,
            "digest": labels.get(LABEL_DIGEST, ""),
            "lock": labels.get("ml-ship.lock", ""),
            "size": int(image.attrs.get("Size") or 0),
            "created": _created(image.attrs.get("Created")),
        })
    found.sort(key=lambda i: (i["job"], -i["version"]))
    return found


def _created(value: str | None) -> str | None:
    if not value:
        return None
    try:  # docker gives nanoseconds; Python's fromisoformat takes microseconds
        head, _, rest = value.rstrip("Z").partition(".")
        micro = (rest[:6] if rest else "0").ljust(6, "0")
        return datetime.fromisoformat(f"{head}.{micro}").replace(tzinfo=timezone.utc).isoformat()
    except ValueError:
        return value


def prune_images(client: Any, current: dict[str, int | None], dry_run: bool = False
                 ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Remove the images of the jobs in ``current`` except each job's current version's
    (tagged) image; untagged leftovers of rebuilds go too.

    Returns ``(removed, kept)``; an image in use by a container is kept with a reason.
    """
    import docker.errors

    removed, kept = [], []
    for job, keep_version in sorted(current.items()):
        for image in list_images(client, job):
            if image["version"] == keep_version and image["tags"]:
                kept.append({**image, "reason": "current version"})
                continue
            if dry_run:
                removed.append(image)
                continue
            try:
                for tag in image["tags"] or [image["id"]]:
                    client.images.remove(tag)
                removed.append(image)
            except docker.errors.APIError as exc:
                kept.append({**image, "reason": short_error(exc)})
    return removed, kept
