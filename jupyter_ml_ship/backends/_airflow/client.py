"""Airflow's stable REST API (v2), the few calls the backend makes.

A token comes from ``POST /auth/token`` with the configured user; it is kept in memory only.
Errors become ours: unreachable, refused credentials or a 5xx are ``BackendUnavailable`` (503,
CLI exit 2) naming the URL and the user, never the password; a refused request is ``BadInput``.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx

from ...errors import BackendUnavailable, BadInput

#: a token is fetched again after this many seconds (Airflow's default lifetime is 24 h)
TOKEN_TTL = 600.0
#: task instance states after which nothing changes any more
TI_DONE = frozenset({"success", "failed", "upstream_failed", "skipped", "removed"})
DAG_RUN_DONE = frozenset({"success", "failed"})


def _q(value: str) -> str:
    return quote(value, safe="")


class AirflowClient:
    def __init__(self, url: str, username: str = "", password: str = "",
                 timeout: float = 30.0, verify: bool | str = True):
        if not url:
            raise BackendUnavailable("the airflow backend has no URL: set ML_SHIP_AIRFLOW_URL "
                                     "(c.MlShip.airflow_url), e.g. http://127.0.0.1:8080")
        self.url = url.rstrip("/")
        self.username = username
        self._password = password
        self._token: tuple[float, str] | None = None
        self._http = httpx.Client(base_url=self.url, timeout=timeout, verify=verify,
                                  trust_env=False)

    def __repr__(self) -> str:  # never the password
        return f"AirflowClient({self.url!r}, user={self.username!r})"

    def close(self) -> None:
        self._http.close()

    # ---- plumbing -------------------------------------------------------------------------

    def _send(self, method: str, path: str, **kw: Any) -> httpx.Response:
        try:
            return self._http.request(method, path, **kw)
        except httpx.TimeoutException:
            raise BackendUnavailable(f"Airflow at {self.url} did not answer in time") from None
        except httpx.HTTPError as exc:
            reason = str(exc) or type(exc).__name__
            raise BackendUnavailable(f"Airflow at {self.url} is unreachable: {reason}") from None

    def token(self) -> str:
        now = time.monotonic()
        if self._token and now - self._token[0] < TOKEN_TTL:
            return self._token[1]
        r = self._send("POST", "/auth/token",
                       json={"username": self.username, "password": self._password})
        if r.status_code in (400, 401, 403, 422):
            raise BackendUnavailable(
                f"Airflow at {self.url} refused the credentials of user {self.username!r} "
                "(ML_SHIP_AIRFLOW_USERNAME / ML_SHIP_AIRFLOW_PASSWORD)")
        if r.status_code != 201 and r.status_code != 200:
            raise BackendUnavailable(f"Airflow at {self.url}: /auth/token answered "
                                     f"{r.status_code} {_detail(r)}")
        self._token = (now, str(r.json()["access_token"]))
        return self._token[1]

    def call(self, method: str, path: str, *, missing_ok: bool = False,
             conflict_ok: bool = False, **kw: Any) -> Any:
        """JSON of ``/api/v2{path}``; None for a 404 (``missing_ok``) or 409 (``conflict_ok``)."""
        extra = kw.pop("headers", {})
        for attempt in (1, 2):
            headers = {"Authorization": f"Bearer {self.token()}", **extra}
            r = self._send(method, f"/api/v2{path}", headers=headers, **kw)
            if r.status_code == 401 and attempt == 1:
                self._token = None  # expired or the server restarted: one new token
                continue
            break
        if r.status_code < 300:
            return r.json() if r.content else None
        if (r.status_code == 404 and missing_ok) or (r.status_code == 409 and conflict_ok):
            return None
        if r.status_code in (401, 403):
            raise BackendUnavailable(f"Airflow at {self.url}: user {self.username!r} may not "
                                     f"{method} {path} ({r.status_code} {_detail(r)})")
        if r.status_code >= 500:
            raise BackendUnavailable(f"Airflow at {self.url}: {method} {path} failed with "
                                     f"{r.status_code} {_detail(r)}")
        raise BadInput(f"Airflow refused {method} {path}: {r.status_code} {_detail(r)}")

    # ---- calls ----------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        r = self._send("GET", "/api/v2/monitor/health")
        if r.status_code != 200:
            raise BackendUnavailable(f"Airflow at {self.url}: health check answered "
                                     f"{r.status_code}")
        return dict(r.json())

    def dag(self, dag_id: str) -> dict[str, Any] | None:
        return self.call("GET", f"/dags/{_q(dag_id)}", missing_ok=True)

    def import_errors(self, file_name: str) -> list[str]:
        """Import errors Airflow recorded for a DAG file (matched by file name)."""
        data = self.call("GET", "/importErrors", params={"limit": 100}) or {}
        return [str(e.get("stack_trace") or "") for e in data.get("import_errors") or []
                if str(e.get("filename") or "").endswith(file_name)]

    def unpause(self, dag_id: str) -> None:
        self.call("PATCH", f"/dags/{_q(dag_id)}", json={"is_paused": False})

    def trigger(self, dag_id: str, dag_run_id: str, conf: dict[str, Any]) -> dict[str, Any]:
        """Start a DAG run with this id; the existing one if it was started already."""
        body = {"dag_run_id": dag_run_id, "logical_date": None, "conf": conf}
        run = self.call("POST", f"/dags/{_q(dag_id)}/dagRuns", json=body, conflict_ok=True)
        return run if run is not None else self.call(
            "GET", f"/dags/{_q(dag_id)}/dagRuns/{_q(dag_run_id)}")

    def dag_runs(self, dag_id_prefix: str, since: datetime, limit: int = 100
                 ) -> list[dict[str, Any]]:
        """DAG runs of every DAG whose id starts with ``dag_id_prefix``, since ``since``."""
        data = self.call("GET", "/dags/~/dagRuns", params={
            "dag_id_prefix_pattern": dag_id_prefix, "run_after_gte": since.isoformat(),
            "order_by": "-run_after", "limit": limit}) or {}
        return list(data.get("dag_runs") or [])

    def dag_run(self, dag_id: str, dag_run_id: str) -> dict[str, Any] | None:
        return self.call("GET", f"/dags/{_q(dag_id)}/dagRuns/{_q(dag_run_id)}", missing_ok=True)

    def fail_dag_run(self, dag_id: str, dag_run_id: str) -> None:
        """Mark a DAG run failed: Airflow stops its running tasks, the rest never start."""
        self.call("PATCH", f"/dags/{_q(dag_id)}/dagRuns/{_q(dag_run_id)}",
                  json={"state": "failed"}, missing_ok=True)

    def fail_task(self, dag_id: str, dag_run_id: str, task_id: str) -> None:
        """Mark one task failed (it stops if running; its downstream tasks will not run)."""
        self.call("PATCH", f"/dags/{_q(dag_id)}/dagRuns/{_q(dag_run_id)}/taskInstances/"
                           f"{_q(task_id)}", json={"new_state": "failed",
                                                   "note": "cancelled from ml-ship"},
                  missing_ok=True, conflict_ok=True)  # 409: it ended (failed) already

    def task_instances(self, dag_id: str, dag_run_id: str) -> dict[str, dict[str, Any]]:
        data = self.call("GET", f"/dags/{_q(dag_id)}/dagRuns/{_q(dag_run_id)}/taskInstances",
                         params={"limit": 1000}, missing_ok=True) or {}
        return {ti["task_id"]: ti for ti in data.get("task_instances") or []}

    def outputs(self, dag_id: str, dag_run_id: str, task_id: str) -> dict[str, Any]:
        """The task's XCom return value: the outputs its notebook recorded."""
        entry = self.call(
            "GET", f"/dags/{_q(dag_id)}/dagRuns/{_q(dag_run_id)}/taskInstances/{_q(task_id)}"
                   "/xcomEntries/return_value", missing_ok=True)
        value = (entry or {}).get("value")
        return value if isinstance(value, dict) else {}

    def log_events(self, dag_id: str, dag_run_id: str, task_id: str,
                   try_number: int) -> list[dict[str, Any]]:
        """The structured log of one try (the whole of it, as far as it goes)."""
        data = self.call(
            "GET", f"/dags/{_q(dag_id)}/dagRuns/{_q(dag_run_id)}/taskInstances/{_q(task_id)}"
                   f"/logs/{int(try_number)}", params={"full_content": "true"},
            headers={"Accept": "application/json"}, missing_ok=True) or {}
        content = data.get("content") or []
        return [e if isinstance(e, dict) else {"event": str(e)} for e in content]


def _detail(r: httpx.Response) -> str:
    try:
        detail = r.json().get("detail")
    except (ValueError, AttributeError):
        detail = r.text
    return str(detail)[:300] if detail else ""
