"""The DAG generator: one readable Airflow DAG file per pipeline version (or job version).

Each step becomes one task running the step's job version image (``ml-ship/<job>:v<N>-<digest>``,
built by the docker backend) with the runner every backend uses (``python -m
jupyter_ml_ship.runner``): a ``DockerOperator`` for a Docker host or a ``KubernetesPodOperator``
for a cluster. A step's parameters become one Jinja template that Airflow renders into a JSON
object: ``{{ params.X }}`` reads the DAG run's conf over the pipeline defaults,
``{{ steps.S.outputs.Y }}`` reads the XCom that step S pushed (the outputs its notebook
recorded), and a whole-value reference keeps its JSON type (``| tojson``).
"""

from __future__ import annotations

import json
import keyword
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from ..._version import __version__
from ...errors import BadInput

OPERATORS = ("docker", "kubernetes")
#: inside every step container: the notebook baked into the image, the shared storage
NOTEBOOK = "/job/notebook.ipynb"
ARTIFACTS_MOUNT = "/ml-ship/artifacts"
_WHOLE = re.compile(r"^\s*\{\{(?P<expr>(?:(?!\{\{|\}\}).)*)\}\}\s*$", re.S)
_JINJA_MARKS = ("{{", "{%", "{#")
_JSON_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array",
               dict: "object"}


@dataclass
class StepTask:
    """One task of the DAG: a job version's image with its parameters and limits."""

    task_id: str
    job: str
    version: int
    image: str
    #: parameter name -> a template rendering to its JSON text
    parameters: dict[str, str] = field(default_factory=dict)
    depends_on: list[str] = field(default_factory=list)
    upstream_refs: list[str] = field(default_factory=list)  # steps whose outputs are read
    notebook: str | None = None
    retries: int | None = None
    timeout: float | None = None
    network: bool = False
    env: dict[str, str] = field(default_factory=dict)
    cpu: str | None = None
    memory: str | None = None  # Docker notation, e.g. "2g"
    gpu: int = 0
    var: str = ""  # its Python variable in the DAG file
    raw_parameters: str | None = None  # instead of ``parameters``: one template of the object

    @property
    def requests(self) -> dict[str, str]:
        """Kubernetes resource requests (what the scheduler reserves): cpu and memory."""
        return {k: v for k, v in (("cpu", self.cpu), ("memory", self.memory)) if v}

    @property
    def limits(self) -> dict[str, str]:
        """Kubernetes resource limits: the requests, and GPUs (which need a limit)."""
        gpu = {"nvidia.com/gpu": str(self.gpu)} if self.gpu else {}
        return {**self.requests, **gpu}

    @property
    def pod_name(self) -> str:
        return re.sub(r"[^a-z0-9-]+", "-", self.task_id.lower()).strip("-")[:50] or "step"


@dataclass
class DagSpec:
    """Everything a generated DAG file says."""

    dag_id: str
    kind: str  # "pipeline" or "job"
    name: str
    version: int
    digest: str
    created_at: datetime
    params: dict[str, Any]
    steps: list[StepTask]
    operator: str = "docker"
    schedule: str | None = None
    source: str = ""
    author: str = ""
    artifacts: str = ""
    namespace: str = "default"

    @property
    def file_name(self) -> str:
        return dag_file_name(self.kind, self.name, self.version)


def dag_id(kind: str, name: str, version: int) -> str:
    """``ml-ship.churn.v3`` for a pipeline, ``ml-ship.job.hello.v2`` for a single job."""
    return f"ml-ship.{name}.v{version}" if kind == "pipeline" else f"ml-ship.job.{name}.v{version}"


#: ``ml-ship.<pipeline>.v<N>`` and ``ml-ship.job.<job>.v<N>`` (see ``dag_id``)
_DAG_ID = re.compile(r"^ml-ship\.(?:(?P<job>job)\.)?(?P<name>[a-z0-9][a-z0-9-]*)\.v(?P<n>\d+)$")


def parse_dag_id(dag_id: str) -> tuple[str, str, int] | None:
    """(kind, name, version) of one of our DAG ids, else None."""
    m = _DAG_ID.match(dag_id)
    if m is None:
        return None
    return ("job" if m["job"] else "pipeline"), m["name"], int(m["n"])


def dag_file_name(kind: str, name: str, version: int) -> str:
    """``ml_ship_pipeline__churn__v3.py`` (names hold no '_': the parts cannot collide)."""
    return f"ml_ship_{kind}__{name.replace('-', '_')}__v{version}.py"


# ---- parameters -----------------------------------------------------------------------------


def json_template(value: Any) -> str:
    """A Jinja template that renders to the JSON text of ``value`` once its templates resolve.

    A string that is one whole ``{{ expression }}`` keeps the expression's JSON type; a string
    with a template inside renders to a string; anything else is a JSON constant.
    """
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))}: {json_template(v)}"
                               for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(json_template(v) for v in value) + "]"
    if isinstance(value, str) and ("{{" in value or "{%" in value):
        whole = _WHOLE.match(value)
        if whole:
            return "{{ " + whole["expr"].strip() + " | tojson }}"
        return "{% filter tojson %}" + value + "{% endfilter %}"
    text = json.dumps(value, allow_nan=False)
    if any(mark in text for mark in _JINJA_MARKS):
        return "{% raw %}" + text + "{% endraw %}"
    return text


def param_type(default: Any) -> str | None:
    """The JSON schema type of a pipeline parameter, from its default (None: any)."""
    return _JSON_TYPES.get(type(default))


# ---- resources ------------------------------------------------------------------------------


def k8s_memory(value: str | None) -> str | None:
    """Docker notation (``2g``, ``512m``) to a Kubernetes quantity (``2Gi``, ``512Mi``)."""
    if not value:
        return None
    from .._docker.engine import memory_bytes

    try:
        n = memory_bytes(value)
    except ValueError as exc:
        raise BadInput(f"resources.{exc}") from None
    for unit, size in (("Gi", 1 << 30), ("Mi", 1 << 20), ("Ki", 1 << 10)):
        if n % size == 0:
            return f"{n // size}{unit}"
    return str(n)


def resources_of(config: dict[str, Any]) -> dict[str, Any]:
    """``cpu``, ``memory``, ``gpu`` of a job config, checked."""
    res = config.get("resources") or {}
    if not isinstance(res, dict):
        raise BadInput("metadata.ml_ship.resources must be a mapping of cpu, memory, gpu")
    cpu = res.get("cpu")
    if isinstance(cpu, (int, float)) and not isinstance(cpu, bool):
        cpu = f"{float(cpu):g}"  # 2.0 -> "2", 0.5 -> "0.5"
    return {"cpu": str(cpu) if cpu not in (None, "", 0, "0") else None,
            "memory": str(res["memory"]) if res.get("memory") else None,
            "gpu": int(res.get("gpu") or 0)}


# ---- rendering ------------------------------------------------------------------------------


def _environment() -> Environment:
    """Our own delimiters: the generated file is full of Airflow's ``{{ }}``."""
    env = Environment(
        loader=FileSystemLoader(str(Path(__file__).parent)), undefined=StrictUndefined,
        block_start_string="<%", block_end_string="%>", variable_start_string="<<",
        variable_end_string=">>", comment_start_string="<#", comment_end_string="#>",
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, autoescape=False,
    )
    env.filters["py"] = _py
    env.filters["seconds"] = lambda t: repr(int(t)) if float(t).is_integer() else repr(float(t))
    return env


def _py(value: Any) -> str:
    """A Python literal, quoted the way ruff/black format it (double quotes first)."""
    if isinstance(value, str):
        if '"' in value and "'" not in value:
            return repr(value)
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (bool, int, float)) or value is None:
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_py(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_py(k)}: {_py(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no Python literal for {type(value).__name__}")


def render_dag(spec: DagSpec) -> str:
    """The DAG file's text (deterministic: same version and settings, same bytes)."""
    if spec.operator not in OPERATORS:
        raise BadInput(f"airflow_operator must be one of {', '.join(OPERATORS)}, "
                       f"got {spec.operator!r}")
    kubernetes = spec.operator == "kubernetes"
    taken: set[str] = set()
    for st in spec.steps:
        st.var = _variable(st.task_id, taken)
        if kubernetes:
            st.memory = k8s_memory(st.memory)
    template = _environment().get_template("dag.py.j2")
    return template.render(
        spec=spec, version=__version__, width=max(len(s.task_id) for s in spec.steps),
        params={k: (v, param_type(v)) for k, v in spec.params.items()},
        kubernetes=kubernetes, imports=_imports(spec, kubernetes),
        datetime_names=_datetime_names(spec), start=spec.created_at,
        notebook=NOTEBOOK, artifacts_mount=ARTIFACTS_MOUNT,
        var_of={st.task_id: st.var for st in spec.steps},
    )


def _variable(task_id: str, taken: set[str]) -> str:
    """A Python name for a task (ids may hold '-' or start with a digit)."""
    base = re.sub(r"\W", "_", task_id)
    base = base if base.isidentifier() and base not in ("dag", "json") else f"step_{base}"
    name, n = base, 2
    while name in taken or keyword.iskeyword(name):
        name, n = f"{base}_{n}", n + 1
    taken.add(name)
    return name


def _datetime_names(spec: DagSpec) -> list[str]:
    names = ["datetime"] if spec.schedule else []
    if any(st.timeout for st in spec.steps):
        names.append("timedelta")
    return names + (["timezone"] if spec.schedule else [])


def _imports(spec: DagSpec, kubernetes: bool) -> list[str]:
    """Third-party imports, sorted the way ruff's isort sorts them."""
    if kubernetes:
        return ["from airflow.providers.cncf.kubernetes.operators.pod import "
                "KubernetesPodOperator", "from airflow.sdk import DAG, Param",
                "from kubernetes.client import models as k8s"]
    lines = ["from airflow.providers.docker.operators.docker import DockerOperator",
             "from airflow.sdk import DAG, Param"]
    docker_types = (["DeviceRequest"] if any(st.gpu for st in spec.steps) else []) + \
        (["Mount"] if spec.artifacts else [])
    if docker_types:
        lines.append(f"from docker.types import {', '.join(docker_types)}")
    return lines
