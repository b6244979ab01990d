"""The pipeline calls of ``ml-ship --url … pipeline …`` (``RemoteService``): a shipped
pipeline, its runs (``pipeline run NAME [--env ENV] [--wait]``, ``status``, ``cancel``) and
its environments and history (``pipeline promote``, ``rollback``, ``versions``, ``runs``,
``list``), over the REST API with the same models
as locally."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote


def _q(name: str) -> str:
    return quote(str(name), safe="")


class RemotePipelines:
    """Mixed into ``RemoteService``: ``api(method, path, **kwargs)`` is its JSON request."""

    follow_interval: float
    api: Callable[..., Any]

    def pipeline(self, name: str, *_: Any) -> Any:
        from ..pipelines.models import PipelineInfo

        return PipelineInfo.model_validate(self.api("GET", f"pipelines/{_q(name)}"))

    def pipelines(self, *_: Any) -> list[Any]:
        from ..pipelines.models import PipelineList

        return PipelineList.model_validate(self.api("GET", "pipelines")).pipelines

    def pipeline_versions(self, name: str, *_: Any) -> list[Any]:
        from ..pipelines.models import PipelineVersionList

        return PipelineVersionList.model_validate(self.api(
            "GET", f"pipelines/{_q(name)}/versions")).versions

    def pipeline_runs(self, pipeline: str | None = None, status: str | None = None,
                      limit: int = 50, cursor: str | None = None) -> tuple[list[Any], str | None]:
        from ..pipelines.models import PipelineRunList

        params = {k: v for k, v in (("pipeline", pipeline), ("status", status),
                                    ("limit", limit), ("cursor", cursor)) if v}
        page = PipelineRunList.model_validate(self.api("GET", "pipeline-runs", params=params))
        return page.runs, page.next_cursor

    def promote_pipeline(self, name: str, number: int, to: str | None = None,
                         *_: Any) -> Any:
        from ..pipelines.models import PipelineInfo

        return PipelineInfo.model_validate(self.api(
            "POST", f"pipelines/{_q(name)}/versions/{int(number)}/promote",
            json={"to": to or "production"}))

    def rollback_pipeline(self, name: str, number: int, *_: Any) -> Any:
        from ..pipelines.models import PipelineInfo

        return PipelineInfo.model_validate(self.api(
            "POST", f"pipelines/{_q(name)}/rollback", json={"version": int(number)}))

    def run_pipeline(self, name: str, version: int | None = None,
                     parameters: dict[str, Any] | None = None, backend: str | None = None, *,
                     use_cache: bool = True, parallelism: int | None = None,
                     environment: str | None = None, **_: Any) -> Any:
        from ..pipelines.models import PipelineRunInfo

        body = {"version": version, "parameters": parameters or {}, "backend": backend,
                "use_cache": use_cache, "parallelism": parallelism,
                **({"environment": environment} if environment else {})}
        return PipelineRunInfo.model_validate(self.api("POST", f"pipelines/{_q(name)}/runs",
                                                       json=body))

    def get_pipeline_run(self, run_id: str, *_: Any, **__: Any) -> Any:
        from ..pipelines.models import PipelineRunInfo

        return PipelineRunInfo.model_validate(self.api("GET", f"pipeline-runs/{_q(run_id)}"))

    def cancel_pipeline_run(self, run_id: str, *_: Any) -> Any:
        from ..pipelines.models import PipelineRunInfo

        return PipelineRunInfo.model_validate(self.api(
            "POST", f"pipeline-runs/{_q(run_id)}/cancel"))

    def wait_pipeline_run(self, run_id: str, timeout: float | None = None,
                          interval: float | None = None,
                          on_update: Callable[[Any], None] | None = None) -> Any:
        """The pipeline run once it has ended (polled; the server schedules it)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            info = self.get_pipeline_run(run_id)
            if on_update:
                on_update(info)
            done = info.status in ("succeeded", "failed", "cancelled") and not any(
                st.status in ("starting", "queued", "building", "running") for st in info.steps)
            if done or (deadline is not None and time.monotonic() > deadline):
                return info
            time.sleep(max(interval or 0, self.follow_interval))
