"""Log a finished run to MLflow: an experiment per job, one MLflow run per ml-ship run.

The ``mlflow`` channel of ``core.notifications``: planned from ``MlShip.mlflow_tracking_uri``
rather than a notify rule, so it is claimed once, retried with backoff and shown on the run like
a notification. The MLflow run carries the
parameters, the numeric outputs as metrics, the other outputs as ``output.*`` tags, the version
and digest as tags, and the output notebook and its HTML report as artifacts. It is found
again by its ``ml_ship.run_id`` tag, so a retry after a crash mid-log completes that run
instead of making a second one. Needs the ``[mlflow]`` extra (the client, ``mlflow-skinny``).
"""

from __future__ import annotations

import json
import math
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from ....config import MlShip
from ....models import RunInfo
from ..channel import Channel, DeliveryError, Notice
from ..message import html_report

if TYPE_CHECKING:
    from ...context import ShipContext

EXPERIMENT_PREFIX = "ml-ship/"
_STATUS = {"succeeded": "FINISHED", "failed": "FAILED", "timed_out": "FAILED",
           "cancelled": "KILLED"}
PROBE_TIMEOUT = 3.0


class MlflowChannel(Channel):
    name = "mlflow"
    needs_message = False
    in_rules = False

    def send(self, ctx: ShipContext, target: str, notice: Notice) -> dict[str, Any]:
        if notice.run_dir is None:
            raise DeliveryError("MLflow logs job runs only")
        return log_run(ctx.settings, ctx.get_run(notice.subject, reconcile=False),
                       notice.run_dir, notice.digest)

    def shown(self, target: str) -> str:
        return "MLflow"


def experiment_name(job: str) -> str:
    return f"{EXPERIMENT_PREFIX}{job}"


def public_uri(uri: str) -> str:
    """The tracking URI without any user or password (for links and messages)."""
    parts = urlsplit(uri)
    if parts.username or parts.password:
        host = parts.hostname or ""
        netloc = f"{host}:{parts.port}" if parts.port else host
        parts = parts._replace(netloc=netloc)
    return urlunsplit(parts)


def log_run(settings: MlShip, info: RunInfo, run_dir: Path, digest: str) -> dict[str, Any]:
    """Log ``info`` (once); ``{"mlflow_run_id", "experiment_id", "url"}``."""
    uri = settings.mlflow_tracking_uri
    shown = public_uri(uri)
    if uri.startswith(("http://", "https://")):
        _probe(uri, shown)  # a server that is down fails fast, not after the client's retries
    try:
        from mlflow.entities import Metric, Param, RunTag
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise DeliveryError("the MLflow client is not installed: pip install "
                            "'jupyter-ml-ship[mlflow]'") from None
    client = MlflowClient(tracking_uri=uri)
    try:
        exp_id = _experiment(client, experiment_name(info.job))
        found = client.search_runs([exp_id], f"tags.`ml_ship.run_id` = '{info.id}'",
                                   max_results=1)
        started = int((info.started_at or info.created_at).timestamp() * 1000)
        ended = int(info.ended_at.timestamp() * 1000) if info.ended_at else None
        if found and found[0].info.status != "RUNNING":
            mlflow_run = found[0]
            return _detail(shown, exp_id, mlflow_run.info.run_id)
        if found:
            run_id = found[0].info.run_id
        else:
            tags = {"ml_ship.run_id": info.id, "ml_ship.job": info.job,
                    "ml_ship.version": str(info.version), "ml_ship.digest": digest,
                    "ml_ship.backend": info.backend, "ml_ship.status": info.status}
            if info.error:
                tags["ml_ship.error"] = (info.error.message or "")[:5000]
            if info.pipeline_run_id:
                tags["ml_ship.pipeline_run_id"] = info.pipeline_run_id
                tags["ml_ship.step"] = info.step or ""
            created = client.create_run(exp_id, start_time=started, tags=tags,
                                        run_name=f"v{info.version}-{info.id}")
            run_id = created.info.run_id
        params = [Param(k, _text(v, 6000)) for k, v in sorted(info.parameters.items())]
        metrics, tags_out = [], []
        for name, value in sorted(info.outputs.items()):
            if _is_number(value):
                metrics.append(Metric(name, float(value), ended or started, 0))
            else:
                tags_out.append(RunTag(f"output.{name}", _text(value, 5000)))
        if info.duration is not None:
            metrics.append(Metric("ml_ship.duration_s", float(info.duration), ended or started, 0))
        for i in range(0, max(len(params), len(metrics), len(tags_out)), 100):
            client.log_batch(run_id, metrics=metrics[i:i + 100], params=params[i:i + 100],
                             tags=tags_out[i:i + 100])
        _artifacts(client, run_id, info, run_dir)
        client.set_terminated(run_id, _STATUS.get(info.status, "FINISHED"), end_time=ended)
    except DeliveryError:
        raise
    except Exception as exc:  # MlflowException, requests errors: shown on the run, retried
        text = str(exc).replace(uri, shown)
        raise DeliveryError(f"MLflow {shown}: {type(exc).__name__}: {text[:500]}") from None
    return _detail(shown, exp_id, run_id)


def _probe(uri: str, shown: str) -> None:
    try:
        with urllib.request.urlopen(uri.rstrip("/") + "/health",  # noqa: S310 (http(s) only)
                                    timeout=PROBE_TIMEOUT):
            return
    except urllib.error.HTTPError:
        return  # it answers (an auth proxy, an old server without /health)
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DeliveryError(f"MLflow tracking server {shown} is unreachable: {reason}") from None


def _experiment(client: Any, name: str) -> str:
    exp = client.get_experiment_by_name(name)
    if exp is not None:
        return str(exp.experiment_id)
    try:
        return str(client.create_experiment(name, tags={"ml_ship.job": name[len(EXPERIMENT_PREFIX):]}))
    except Exception:  # created meanwhile by another process
        exp = client.get_experiment_by_name(name)
        if exp is None:
            raise
        return str(exp.experiment_id)


def _artifacts(client: Any, run_id: str, info: RunInfo, run_dir: Path) -> None:
    output = next((run_dir / n for n in ("output.ipynb", "output.partial.ipynb")
                   if (run_dir / n).exists()), None)
    if output is None:
        return
    with tempfile.TemporaryDirectory(prefix="ml-ship-mlflow-") as tmp:
        notebook = Path(tmp) / f"{info.job}-{info.id}.ipynb"
        notebook.write_bytes(output.read_bytes())
        client.log_artifact(run_id, str(notebook))
        try:
            report = Path(tmp) / f"{info.job}-{info.id}.html"
            report.write_text(html_report(output, f"{info.job} v{info.version} — run {info.id}"),
                              encoding="utf-8")
        except Exception:
            return  # the notebook is there; a report that cannot be made is not a failure
        client.log_artifact(run_id, str(report))


def _detail(shown: str, exp_id: str, run_id: str) -> dict[str, Any]:
    url = None
    if shown.startswith(("http://", "https://")):
        url = f"{shown.rstrip('/')}/#/experiments/{exp_id}/runs/{run_id}"
    return {"mlflow_run_id": run_id, "experiment_id": exp_id, "url": url}


def _is_number(value: Any) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(float(value)))


def _text(value: Any, limit: int) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text[:limit]
