"""Reading a pipeline: a ``*.pipeline.yaml`` file, or a folder of notebooks whose
``metadata.ml_ship.depends_on`` name each other. Structural checks happen here (keys, types,
unknown steps, cycles, template references); checks that need notebooks or the store are in
``resolve``. Every problem is a ``BadInput`` that says where (file, line, key).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..cron import check_schedule
from ..errors import BadInput
from ..naming import check_name, name_from_path
from ..notify_spec import parse_notify, plain_notify
from ..runner._spark import spark_spec
from ..untrusted import inside
from ..user_yaml import compose
from .commands import PARAMETER, parse_command
from .templates import Ref, find_refs

STEP_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]{0,62}$")
#: ``schedule``: a cron expression (5 fields, UTC) or one of Airflow's presets (``cron``)
#: ``owners`` (JupyterHub group names) and ``run_by`` (``owners``/``team``): team mode, like a
#: job's ``metadata.ml_ship.owners`` / ``run_by`` (``core.access``)
#: ``triggers`` (what starts it: webhook, files, after) and ``schedule_environment`` (the
#: environment whose version its schedule runs) are checked against the store in ``core``
TOP_KEYS = {"name", "description", "parameters", "schedule", "steps", "notify", "owners", "run_by",
            "triggers", "schedule_environment"}
RUN_BY = ("owners", "team")
STEP_KEYS = {"notebook", "script", "job", "command", "depends_on", "parameters", "retries", "timeout", "backend",
             "cache", "checks", "on_degraded", "spark"}
#: the step keys that name a file ml-ship reads: relative to the pipeline file, confined to its
#: folder (``untrusted.inside``) when the file is read; the other keys are data (a test holds
#: ``STEP_KEYS`` to this split)
STEP_PATH_KEYS = ("notebook", "script")
#: what a step whose run is degraded (a failed check) does to the steps after it
ON_DEGRADED = ("continue", "stop")


@dataclass
class StepSpec:
    id: str
    notebook: str | None = None  # as written, relative to the pipeline file
    job: str | None = None  # job name, for ``job: name`` / ``job: name@3``
    #: ``command:`` arguments as written, templates unrendered (``pipelines.commands``)
    command: list[str] | None = None
    version: int | None = None  # pinned job version
    depends_on: list[str] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)
    retries: int | None = None
    timeout: float | None = None
    backend: str | None = None
    cache: bool = True  # False: always run (a step that reads the outside world)
    #: checks on the step's outputs, over its notebook's (validated in core.checks)
    checks: dict[str, Any] | None = None
    on_degraded: str = "continue"  # "stop": a degraded run stops the steps after it
    #: ``spark:`` as written (true, false or a mapping), merged over the notebook's
    #: ``metadata.ml_ship.spark`` when the step runs (``runner._spark.merge_spark``)
    spark: Any = None
    refs: list[tuple[str, Ref]] = field(default_factory=list)


@dataclass
class PipelineSpec:
    name: str
    path: Path  # the file, or the folder
    base_dir: Path  # notebook paths are relative to it
    parameters: dict[str, Any]
    steps: dict[str, StepSpec]
    source: str  # the file's text (a folder: a generated YAML of the same pipeline)
    lines: dict[tuple[str, ...], int] = field(default_factory=dict)
    schedule: str | None = None  # when an orchestrator (Airflow) runs it by itself
    #: the environment whose version the schedule runs (None: production)
    schedule_environment: str | None = None
    triggers: Any = None  # ``triggers:`` as written (``core.triggers`` checks it)
    owners: list[str] = field(default_factory=list)  # owner groups (JupyterHub group names)
    run_by: str | None = None  # "team" or "owners"; None: derived from the steps' jobs
    notify: Any = None  # the validated ``notify:`` value (``notify_spec``), delivered per run
    #: the folder the ``STEP_PATH_KEYS`` must stay in (the server root over REST); None: the
    #: CLI on the user's own files, where a step may name ``../notebooks/x.ipynb``
    confine: Path | None = None
    confine_name: str = "the server root"

    def where(self, *key: str) -> str:
        """``churn.pipeline.yaml, line 12: steps.train.depends_on`` — the location of a key."""
        line = None
        for n in range(len(key), 0, -1):
            line = self.lines.get(tuple(key[:n]))
            if line:
                break
        spot = ".".join(key)
        return f"{self.path.name}" + (f", line {line}" if line else "") + (f": {spot}" if spot else "")

    def upstream(self, step_id: str) -> set[str]:
        """All steps ``step_id`` depends on, directly or through others."""
        seen: set[str] = set()
        todo = list(self.steps[step_id].depends_on)
        while todo:
            s = todo.pop()
            if s not in seen:
                seen.add(s)
                todo.extend(self.steps[s].depends_on)
        return seen

    def order(self) -> list[str]:
        """Step ids so that every step comes after its dependencies (file order otherwise)."""
        done: list[str] = []
        placed: set[str] = set()
        while len(done) < len(self.steps):
            for sid, step in self.steps.items():
                if sid not in placed and all(d in placed for d in step.depends_on):
                    done.append(sid)
                    placed.add(sid)
        return done


def _node_lines(node: yaml.Node, path: tuple[str, ...], out: dict[tuple[str, ...], int]) -> None:
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            k = str(key.value)
            out[path + (k,)] = key.start_mark.line + 1
            _node_lines(value, path + (k,), out)
            out[path + (k,)] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _node_lines(item, path + (str(i),), out)


def _load_yaml(text: str, path: Path) -> tuple[Any, dict[tuple[str, ...], int]]:
    loader = None
    try:  # aliases that would expand past a bound are refused before anything walks them
        node, loader = compose(text, path.name)
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        what = " ".join(str(x) for x in (exc.context, exc.problem) if x)
        raise BadInput(f"{path.name}{where}: invalid YAML: {what}") from None
    except yaml.YAMLError as exc:
        raise BadInput(f"{path.name}: invalid YAML: {exc}") from None
    finally:
        if loader is not None:
            loader.dispose()
    lines: dict[tuple[str, ...], int] = {}
    if node is not None:
        _node_lines(node, (), lines)
    return data, lines


def load_pipeline(path: str | Path, check_graph: bool = True,
                  confine: Path | None = None) -> PipelineSpec:
    """A pipeline file or folder, parsed and structurally valid (``check_graph=False``: its
    references between steps and to parameters not checked yet, see ``check_graph``); with
    ``confine``, every step path (``STEP_PATH_KEYS``) must stay inside that folder."""
    p = Path(path)
    if p.is_dir():
        return _from_folder(p)
    if not p.is_file():
        raise BadInput(f"{path}: no such pipeline file or folder")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise BadInput(f"{p.name}: not a text file") from None
    data, lines = _load_yaml(text, p)
    spec = PipelineSpec(name="", path=p, base_dir=p.parent.resolve(), parameters={}, steps={},
                        source=text, lines=lines, confine=confine)
    return _build(spec, data, check_graph)


def _build(spec: PipelineSpec, data: Any, graph: bool = True) -> PipelineSpec:
    if not isinstance(data, dict):
        raise BadInput(f"{spec.where()}: a pipeline is a mapping with 'name', 'parameters' and "
                       "'steps'")
    unknown = sorted(set(map(str, data)) - TOP_KEYS)
    if unknown:
        raise BadInput(f"{spec.where(unknown[0])}: unknown key (allowed: "
                       f"{', '.join(sorted(TOP_KEYS))})")
    name = data.get("name") or name_from_path(spec.path)
    try:
        spec.name = check_name(str(name), "pipeline")
    except BadInput as exc:
        raise BadInput(f"{spec.where('name')}: {exc.message}") from None
    params = data.get("parameters") or {}
    if not isinstance(params, dict):
        raise BadInput(f"{spec.where('parameters')}: must be a mapping of names to defaults")
    spec.parameters = {str(k): _jsonable(v, spec.where("parameters", str(k)))
                       for k, v in params.items()}
    spec.schedule = check_schedule(data.get("schedule"), spec.where("schedule"))
    env = data.get("schedule_environment")
    if env is not None and (not isinstance(env, str) or not env):
        raise BadInput(f"{spec.where('schedule_environment')}: an environment name is needed, "
                       f"got {env!r}")
    spec.schedule_environment = env
    spec.triggers = data.get("triggers")
    if parse_notify(data.get("notify"), spec.where("notify")):
        spec.notify = plain_notify(data.get("notify"))
    spec.owners, spec.run_by = _ownership(spec, data)
    steps = data.get("steps")
    if not isinstance(steps, dict) or not steps:
        raise BadInput(f"{spec.where('steps')}: a pipeline needs a mapping of one or more steps")
    for sid, raw in steps.items():
        spec.steps[str(sid)] = _step(spec, str(sid), raw)
    if graph:
        check_graph(spec)
    return spec


def _ownership(spec: PipelineSpec, data: dict[str, Any]) -> tuple[list[str], str | None]:
    """``owners: [group, ...]`` (or one group) and ``run_by: team|owners``, checked."""
    raw = data.get("owners")
    if raw is None:
        owners: list[str] = []
    elif isinstance(raw, str) and raw.strip():
        owners = [raw]
    elif isinstance(raw, list) and all(isinstance(g, str) and g.strip() for g in raw):
        owners = list(dict.fromkeys(raw))
    else:
        raise BadInput(f"{spec.where('owners')}: a list of JupyterHub group names is needed, "
                       f"got {raw!r}")
    run_by = data.get("run_by")
    if run_by is not None and run_by not in RUN_BY:
        raise BadInput(f"{spec.where('run_by')}: 'owners' or 'team', got {run_by!r}")
    return owners, run_by


def _jsonable(value: Any, where: str) -> Any:
    """YAML dates and other non-JSON scalars become strings, like ``-p`` values."""
    try:
        json.dumps(value, allow_nan=False)
        return value
    except (TypeError, ValueError):
        if isinstance(value, (list, dict)):
            raise BadInput(f"{where}: not a JSON value") from None
        return str(value)


def _step(spec: PipelineSpec, sid: str, raw: Any) -> StepSpec:
    where = lambda *k: spec.where("steps", sid, *k)  # noqa: E731
    if not STEP_ID.match(sid):
        raise BadInput(f"{where()}: step id {sid!r} is not allowed (letters, digits, '_', '-')")
    if not isinstance(raw, dict):
        raise BadInput(f"{where()}: a step is a mapping with 'notebook' or 'job'")
    unknown = sorted(set(map(str, raw)) - STEP_KEYS)
    if unknown:
        raise BadInput(f"{where(unknown[0])}: unknown key (allowed: {', '.join(sorted(STEP_KEYS))})")
    step = StepSpec(id=sid)
    if sum(k in raw for k in ("notebook", "script", "job", "command")) != 1:
        raise BadInput(f"{where()}: give exactly one of 'notebook' (a file), 'script' (a .py, "
                       "'.R' or '.md' file), 'job' (name[@N]) or 'command' (a list of arguments "
                       "or a string)")
    if "command" in raw:  # run without a shell, as a generated notebook (pipelines.commands)
        step.command = parse_command(raw["command"], where("command"))
        if raw.get("parameters"):
            raise BadInput(f"{where('parameters')}: a command step takes no parameters; write "
                           "values into the command: {{ params.NAME }}, {{ steps.X.outputs.Y }}")
    elif "script" in raw:  # a .py / .R / .md file: shipped through Jupytext (languages.scripts)
        if not isinstance(raw["script"], str) or not raw["script"].strip():
            raise BadInput(f"{where('script')}: must be the path of a .py, .R or .md script")
        step.notebook = raw["script"]
    elif "notebook" in raw:
        if not isinstance(raw["notebook"], str) or not raw["notebook"].strip():
            raise BadInput(f"{where('notebook')}: must be a notebook path")
        step.notebook = raw["notebook"]
    else:
        ref = str(raw["job"])
        name, _, number = ref.partition("@")
        try:
            step.job = check_name(name)
            step.version = int(number.lstrip("v")) if number else None
        except (BadInput, ValueError):
            raise BadInput(f"{where('job')}: {ref!r} is not a job reference (name or name@N)") \
                from None
    for key in STEP_PATH_KEYS:
        if key in raw and spec.confine is not None:
            inside(raw[key], base=spec.base_dir, folder=spec.confine, key=where(key),
                   folder_name=spec.confine_name)
    deps = raw.get("depends_on") or []
    deps = [deps] if isinstance(deps, str) else deps
    if not isinstance(deps, list) or not all(isinstance(d, str) for d in deps):
        raise BadInput(f"{where('depends_on')}: must be a list of step ids")
    step.depends_on = list(dict.fromkeys(deps))
    params = raw.get("parameters") or {}
    if not isinstance(params, dict):
        raise BadInput(f"{where('parameters')}: must be a mapping of parameter names to values")
    step.parameters = {str(k): _jsonable(v, where("parameters", str(k))) for k, v in params.items()}
    if step.command is not None:  # its templates resolve per run like a parameter's
        step.parameters = {PARAMETER: step.command}
    step.refs = []
    for key, value in step.parameters.items():
        try:
            step.refs += find_refs(value, f"steps.{sid}.parameters.{key}")
        except BadInput as exc:  # said with the file and line
            raise BadInput(f"{where('parameters', key).rsplit(': ', 1)[0]}: {exc.message}") \
                from None
    retries = raw.get("retries")
    if retries is not None and (isinstance(retries, bool) or not isinstance(retries, int)
                                or not 0 <= retries <= 20):
        raise BadInput(f"{where('retries')}: must be an integer from 0 to 20")
    step.retries = retries
    timeout = raw.get("timeout")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float))
                                or timeout <= 0):
        raise BadInput(f"{where('timeout')}: must be a number of seconds > 0")
    step.timeout = float(timeout) if timeout is not None else None
    backend = raw.get("backend")
    if backend is not None and not isinstance(backend, str):
        raise BadInput(f"{where('backend')}: must be a backend name")
    step.backend = backend
    cache = raw.get("cache", True)
    if not isinstance(cache, bool):
        raise BadInput(f"{where('cache')}: must be true or false")
    step.cache = cache
    checks = raw.get("checks")
    if checks is not None and not isinstance(checks, dict):
        raise BadInput(f"{where('checks')}: must be a mapping of output names to rules, e.g. "
                       "{accuracy: {min: 0.8}}")
    step.checks = checks or None
    on_degraded = raw.get("on_degraded", "continue")
    if on_degraded not in ON_DEGRADED:
        raise BadInput(f"{where('on_degraded')}: must be stop or continue, got {on_degraded!r}")
    step.on_degraded = on_degraded
    if raw.get("spark") not in (None, False):  # checked now, naming the step and the key
        spark_spec(raw["spark"], "", "", at=where("spark"))
    step.spark = raw.get("spark")
    return step


def find_cycle(deps: dict[str, list[str]]) -> list[str] | None:
    """A dependency cycle in data-flow order (``[a, b, a]``: b depends on a, a on b), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for dep in deps.get(node, []):
            if state.get(dep) == 1:
                loop = path[path.index(dep):] + [dep]
                return loop[::-1]
            if dep in deps and state.get(dep) is None:
                found = visit(dep)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for node in deps:
        if state.get(node) is None:
            found = visit(node)
            if found:
                return found
    return None


def check_graph(spec: PipelineSpec) -> None:
    """Every ``depends_on`` names a step, no cycle, every template reference resolvable."""
    ids = list(spec.steps)
    for sid, step in spec.steps.items():
        for i, dep in enumerate(step.depends_on):
            if dep not in spec.steps:
                raise BadInput(f"{spec.where('steps', sid, 'depends_on', str(i))}: unknown step "
                               f"{dep!r} (steps: {', '.join(ids)})")
    cycle = find_cycle({sid: s.depends_on for sid, s in spec.steps.items()})
    if cycle:
        raise BadInput(f"{spec.where('steps', cycle[1], 'depends_on')}: dependency cycle: "
                       + " -> ".join(cycle))
    for sid, step in spec.steps.items():
        upstream = spec.upstream(sid)
        for spot, ref in step.refs:
            key = ("steps", sid, "parameters", spot.split(".")[3].split("[")[0])
            if ref.kind == "params" and ref.name not in spec.parameters:
                names = ", ".join(spec.parameters) or "none"
                raise BadInput(f"{spec.where(*key)}: {{{{ {ref} }}}}: unknown pipeline parameter "
                               f"{ref.name!r} (parameters: {names})")
            if ref.upstream and ref.name not in upstream:
                why = "no such step" if ref.name not in spec.steps else \
                    f"step {ref.name!r} is not upstream of {sid!r} (add it to depends_on)"
                raise BadInput(f"{spec.where(*key)}: {{{{ {ref} }}}}: {why}")
        _check_bounds(spec, step)


def _check_bounds(spec: PipelineSpec, step: StepSpec) -> None:
    """A parameter that reads only pipeline parameters is evaluated with their defaults: one
    that would make unbounded work (``{{ params.n ** params.big }}``) is refused now, as a run
    with the defaults would be; other errors may depend on a run's parameters and wait for it."""
    from ._sandbox import Unbounded
    from .templates import context, render

    upstream = {spot.split(".")[3].split("[")[0] for spot, ref in step.refs if ref.upstream}
    params = {spot.split(".")[3].split("[")[0] for spot, ref in step.refs if not ref.upstream}
    ctx = context(spec.parameters, {})
    for key in sorted(params - upstream):
        try:
            render(step.parameters[key], ctx, spec.where("steps", step.id, "parameters", key))
        except Unbounded:
            raise
        except BadInput:
            pass


def _from_folder(folder: Path) -> PipelineSpec:
    """Notebooks of a folder; each is a step named after its job, ordered by ``depends_on``."""
    from .analysis import read_notebook_facts

    steps: dict[str, Any] = {}
    files: dict[str, str] = {}
    for nb_path in sorted(folder.glob("*.ipynb")):
        facts = read_notebook_facts(nb_path, nb_path.name)
        sid = str(facts.config.get("name") or name_from_path(nb_path))
        if sid in steps:
            raise BadInput(f"{folder.name}: {nb_path.name} and {files[sid]} are both job {sid!r}")
        files[sid] = nb_path.name
        deps = facts.config.get("depends_on") or []
        steps[sid] = {"notebook": nb_path.name, **({"depends_on": deps} if deps else {})}
    if not steps:
        raise BadInput(f"{folder}: no notebooks in this folder")
    data = {"name": name_from_path(folder.resolve()), "steps": steps}
    text = yaml.safe_dump(data, sort_keys=False)
    spec = PipelineSpec(name="", path=folder, base_dir=folder.resolve(), parameters={}, steps={},
                        source=text)
    for sid, raw in steps.items():
        deps = raw.get("depends_on") or []
        for dep in deps if isinstance(deps, list) else [deps]:
            if dep not in steps:
                raise BadInput(f"{files[sid]}: metadata.ml_ship.depends_on: {dep!r} is not a "
                               f"notebook of {folder.name}/ (jobs: {', '.join(steps)})")
    return _build(spec, data)
