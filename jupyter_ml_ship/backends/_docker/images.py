"""Listing and pruning job images (``ml-ship images [JOB]``, ``ml-ship images prune [JOB]``)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from .engine import LABEL_DIGEST, LABEL_JOB, LABEL_VERSION, short_error


def list_images(client: Any, job: str | None = None) -> list[dict[str, Any]]:
    """Job images, by job then newest version first, a version's tagged image before untagged
    leftovers of its rebuilds (one API call: no race with removals)."""
    label = f"{LABEL_JOB}={job}" if job else LABEL_JOB
    found = []
    for raw in client.api.images(filters={"label": label}):
        labels = raw.get("Labels") or {}
        tags = [t for t in raw.get("RepoTags") or [] if t.startswith("ml-ship/")]
        try:
            version = int(labels.get(LABEL_VERSION, "0"))
        except ValueError:
            version = 0
        short = raw["Id"].split(":")[-1][:12]
        created = raw.get("Created")
        found.append({
            "image": tags[0] if tags else f"(untagged) {short}",
            "tags": tags,
            "id": raw["Id"],
            "job": labels.get(LABEL_JOB, ""),
            "version": version,
            "digest": labels.get(LABEL_DIGEST, ""),
            "lock": labels.get("ml-ship.lock", ""),
            "size": int(raw.get("Size") or 0),
            "created": datetime.fromtimestamp(created, timezone.utc).isoformat()
            if isinstance(created, int) else None,
        })
    # newest first within a version, its tagged image (the one runs use) before leftovers
    found.sort(key=lambda i: i["created"] or "", reverse=True)
    found.sort(key=lambda i: (i["job"], -i["version"], not i["tags"]))
    return found


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
