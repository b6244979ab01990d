"""Runs started by events: a job's ``metadata.ml_ship.triggers`` and a pipeline file's
``triggers:`` (issue #23).

What starts a job or a pipeline, one entry per kind (a dict, or a list of dicts)::

    {"webhook": true}                      a secret URL: POST /ml-ship/api/triggers/{token}
    {"files": "data/incoming/*.csv"}       one run per new file matching the glob
    {"after": ["prepare-data"]}            a run each time that job or pipeline succeeds

each with an optional ``"environment"`` (the environment whose version runs; production unless
said) and, for files, ``"parameter"`` (the notebook's parameter, or the pipeline's, given the
file's absolute path; ``trigger_file`` unless said; it must be declared).

- **webhook**: the token is made when the trigger is first shipped, shown once (the ship's
  ``trigger_token``; ``ml-ship triggers token NAME [--pipeline]`` makes a new one), kept as
  its SHA-256 only, compared in constant time, revocable (``ml-ship triggers revoke NAME
  [--pipeline]``), rate-limited (``MlShip.trigger_rate_limit`` runs a minute per job or
  pipeline: 429 beyond). An unknown or revoked token is a 404 naming nothing.
- **files**: the glob is relative to the project folder the job was shipped from (a pipeline:
  its file's folder), on the server's side; absolute globs and ``..`` are refused, files leading
  out of that folder (links) are ignored. The files already there when the trigger is shipped
  are not new. Each new file starts one run (a pipeline: one pipeline run), recorded in the
  store (``trigger_fires``) before it starts: never twice, across restarts and processes.
  Watched by the periodic work (the tick: the agent holding the lease, or the Jupyter server
  when no agent runs).
- **after**: each success of an upstream job (seen when its run ends, and by the tick) or
  pipeline (by the tick) starts one run. Upstreams must exist; a cycle is refused at ship, and
  a pipeline is not started again by the success of one of its own steps.

A trigger's runs are started by ``trigger:<kind>`` (``started_by``). Rows are keyed by
``target`` (``job`` or ``pipeline``) and name.
"""

from __future__ import annotations

from ._fire import fire_after, fire_files, fire_triggers, on_run_ended
from ._mixin import RateLimited, TriggersMixin
from ._parse import (
    DEFAULT_PARAMETER,
    KINDS,
    TriggerSpec,
    matching_files,
    parse_triggers,
    token_hash,
)

__all__ = [
    "DEFAULT_PARAMETER", "KINDS", "RateLimited", "TriggerSpec", "TriggersMixin", "fire_after",
    "fire_files", "fire_triggers", "matching_files", "on_run_ended", "parse_triggers",
    "token_hash",
]
