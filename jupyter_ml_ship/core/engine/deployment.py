"""What an orchestrating backend needs to deploy a pipeline version, read from the store.

Plain data (``Backend.deploy_pipeline`` and ``Backend.export_pipeline`` take it): the
pipeline version and, for each step's job version, what building its image needs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...store.files import read_json
from ..context import ShipContext
from ..rows import job_version_row
from .versions import version_row


def pipeline_deployment(ctx: ShipContext, name: str, number: int | None = None
                        ) -> dict[str, Any]:
    """The pipeline version ``number`` of ``name`` (None: its current one), and its jobs."""
    with ctx.store.session() as s:
        v = version_row(s, name, number)
        spec, number = dict(v.spec), v.number
        out: dict[str, Any] = {"name": name, "version": number, "digest": v.digest,
                               "created_at": v.created_at, "author": v.author,
                               "source": v.source_path, "spec": spec}
    out["jobs"] = {f"{st['job']}@{st['version']}": version_fields(ctx, st["job"], st["version"])
                   for st in spec["steps"].values()}
    return out


def version_fields(ctx: ShipContext, job: str, number: int) -> dict[str, Any]:
    """What building a job version's image needs."""
    with ctx.store.session() as s:
        v = job_version_row(s, job, number)
        manifest = read_json(v.project["manifest"]) if v.project else None
        notebook_dir = Path(manifest["notebook"]).parent.as_posix() if manifest else ""
        return {"job": job, "number": v.number, "digest": v.digest,
                "environment": v.environment, "environment_source": v.environment_source,
                "notebook_file": v.notebook_file, "config": dict(v.config or {}),
                "created_at": v.created_at,
                "project": {"files": manifest["files"],
                            "notebook_dir": "" if notebook_dir == "." else notebook_dir}
                if manifest else None}
