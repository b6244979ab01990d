"""The trigger calls of ``ml-ship --url … triggers [revoke|token] NAME [--pipeline]``
(``RemoteService``): list every job's and pipeline's triggers, revoke a webhook or make it a new
secret, over the REST API with the same models as locally."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote


def _route(name: str, target: str) -> str:
    return f"{'pipelines' if target == 'pipeline' else 'jobs'}/{quote(str(name), safe='')}/trigger"


class RemoteTriggers:
    """Mixed into ``RemoteService``: ``api(method, path, **kwargs)`` is its JSON request."""

    api: Callable[..., Any]

    def triggers(self, job: str | None = None, target: str | None = None) -> list[Any]:
        from ..models.triggers import TriggerList

        found = TriggerList.model_validate(self.api("GET", "triggers")).triggers
        return [t for t in found if (job is None or t.job == job)
                and (target is None or t.target == target)]

    def trigger_token(self, job: str, actor: Any = None, target: str = "job") -> Any:
        from ..models.triggers import TriggerToken

        return TriggerToken.model_validate(self.api("POST", _route(job, target)))

    def revoke_trigger(self, job: str, actor: Any = None, target: str = "job") -> Any:
        from ..models.triggers import TriggerInfo

        return TriggerInfo.model_validate(self.api("DELETE", _route(job, target)))
