"""PySpark runs: ``metadata.ml_ship.spark`` (or a pipeline step's ``spark:``).

``spark: true`` or ``spark: {master, executors, cores, memory, conf}``. The service resolves it
(:func:`spark_spec`: the master defaults to ``c.MlShip.spark_master``, ``local[*]`` when unset)
into ``run.json``'s ``spark``; the runner puts a hidden first cell in the run's notebook
(:func:`add_session_cell`) that hands it a ready ``spark`` session named after the job and run,
writes the application's id and UI link to ``spark/app.json`` and keeps the event log in
``spark/events/`` (files kept with the run). The session is stopped when the kernel ends (an
``atexit`` of the cell): at the end of the run, and on cancel or timeout (the runner interrupts,
then shuts down the kernel), so the application leaves the master's list.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ..errors import BadInput
from ..languages import PREAMBLE_TAG

#: folder of the run directory with the application's facts and event log
SPARK_DIR = "spark"
APP_FILE = "app.json"
_KEYS = {"master", "executors", "cores", "memory", "conf"}
_MASTER_RE = re.compile(r"^(local(\[(\*|\d+)(,\d+)?\])?|spark://[A-Za-z0-9.\-]+:\d+"
                        r"(,[A-Za-z0-9.\-]+:\d+)*|yarn|k8s://\S+)$")
_MEMORY_RE = re.compile(r"^\d+[kmgtKMGT]?$")


def spark_spec(value: Any, default_master: str, where: str,
               at: str | None = None) -> dict[str, Any] | None:
    """``metadata.ml_ship.spark`` checked and resolved; ``None`` when the job uses no Spark.
    A ``BadInput`` naming the key and what is wrong otherwise (``at``: the key's whole location,
    e.g. a pipeline step's ``flow.pipeline.yaml, line 9: steps.count.spark``)."""
    if value is None or value is False:
        return None
    if value is True:
        value = {}
    at = at or f"{where}: metadata.ml_ship.spark"
    if not isinstance(value, dict):
        raise BadInput(f"{at} must be true or a mapping (master, executors, cores, memory, "
                       f"conf), got {type(value).__name__}")
    unknown = sorted(set(value) - _KEYS)
    if unknown:
        raise BadInput(f"{at}: unknown key(s) {', '.join(unknown)} (known: "
                       f"{', '.join(sorted(_KEYS))})")
    master = str(value.get("master") or default_master or "local[*]")
    if not _MASTER_RE.match(master):
        raise BadInput(f"{at}.master: {master!r} is not a Spark master URL (local[*], "
                       "spark://HOST:PORT, yarn, k8s://…)")
    spec: dict[str, Any] = {"master": master}
    for key in ("executors", "cores"):
        if value.get(key) is not None:
            n = value[key]
            if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 10_000:
                raise BadInput(f"{at}.{key} must be a whole number from 1, got {n!r}")
            spec[key] = n
    if value.get("memory") is not None:
        memory = str(value["memory"])
        if not _MEMORY_RE.match(memory):
            raise BadInput(f"{at}.memory: {memory!r} is not a JVM memory size (512m, 2g)")
        spec["memory"] = memory
    conf = value.get("conf") or {}
    if not isinstance(conf, dict) or not all(
            isinstance(k, str) and k.startswith("spark.") and isinstance(v, (str, int, float, bool))
            for k, v in conf.items()):
        raise BadInput(f"{at}.conf must map spark.* keys to strings or numbers")
    spec["conf"] = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in conf.items()}
    return spec


def merge_spark(base: Any, step: Any) -> Any:
    """A pipeline step's ``spark:`` over its notebook's ``metadata.ml_ship.spark``: the step's
    keys win, its ``conf`` is merged key by key; ``false`` turns Spark off, ``true`` keeps the
    notebook's settings (or turns Spark on with the defaults)."""
    if step is None:
        return base
    if step is False:
        return None
    mine = {} if step is True else dict(step)
    theirs = dict(base) if isinstance(base, dict) else {}
    conf = {**(theirs.get("conf") or {}), **(mine.get("conf") or {})}
    merged = {**theirs, **mine}
    if conf:
        merged["conf"] = conf
    return merged


def session_conf(spec: dict[str, Any], run_dir: Path) -> dict[str, str]:
    """The Spark settings of the run's session (its own ``conf`` last: it wins)."""
    events = (run_dir / SPARK_DIR / "events").resolve()
    conf = {"spark.eventLog.enabled": "true", "spark.eventLog.dir": events.as_uri(),
            # one plain JSON-lines file per application, readable as it is kept
            "spark.eventLog.rolling.enabled": "false", "spark.eventLog.compress": "false",
            "spark.ui.showConsoleProgress": "false"}
    cores = int(spec.get("cores") or 1)
    if spec.get("executors"):
        conf["spark.executor.instances"] = str(spec["executors"])
        conf["spark.executor.cores"] = str(cores)
        conf["spark.cores.max"] = str(cores * int(spec["executors"]))  # standalone: the count
    elif spec.get("cores"):
        conf["spark.executor.cores"] = str(cores)
    if spec.get("memory"):
        conf["spark.executor.memory"] = spec["memory"]
    conf.update(spec.get("conf") or {})
    return conf


def app_name(job: str, run_id: str) -> str:
    return f"ml-ship {job} {run_id}"


def session_source(spec: dict[str, Any], run_dir: Path, job: str, run_id: str) -> str:
    """The hidden cell's code: the session, its facts written for the service, stopped at exit."""
    app_file = (run_dir / SPARK_DIR / APP_FILE).resolve()
    return (
        "import atexit as _mls_atexit, json as _mls_json\n"
        "from pyspark.sql import SparkSession as _MlsSparkSession\n"
        f"_mls_builder = _MlsSparkSession.builder.appName({app_name(job, run_id)!r})"
        f".master({spec['master']!r})\n"
        f"for _mls_k, _mls_v in {session_conf(spec, run_dir)!r}.items():\n"
        "    _mls_builder = _mls_builder.config(_mls_k, _mls_v)\n"
        "spark = _mls_builder.getOrCreate()\n"
        "sc = spark.sparkContext\n"
        "_mls_atexit.register(spark.stop)\n"
        f"with open({str(app_file)!r}, 'w') as _mls_fh:\n"
        "    _mls_json.dump({'app_id': sc.applicationId, 'ui_url': sc.uiWebUrl, "
        "'master': sc.master, 'app_name': sc.appName}, _mls_fh)\n"
        "print(f'[ml-ship] Spark application {sc.applicationId} on {sc.master}; UI '"
        " f'{sc.uiWebUrl}')\n"
        "del _mls_builder, _mls_fh\n"
    )


def add_session_cell(run_dir: Path, spec: dict[str, Any]) -> None:
    """Put the session cell first in the run's ``input.ipynb`` (once: a retry keeps it)."""
    spark = spec.get("spark")
    if not spark:
        return
    (run_dir / SPARK_DIR / "events").mkdir(parents=True, exist_ok=True)
    path = run_dir / "input.ipynb"
    nb = json.loads(path.read_text(encoding="utf-8"))
    cells = nb.setdefault("cells", [])
    if any((c.get("metadata") or {}).get("ml_ship_spark") for c in cells):
        return
    cell: dict[str, Any] = {
        "cell_type": "code", "execution_count": None, "outputs": [],
        "source": session_source(spark, run_dir, str(spec.get("job") or "job"),
                                 str(spec.get("run_id") or run_dir.name)),
        "metadata": {"tags": [PREAMBLE_TAG], "ml_ship_spark": True,
                     "jupyter": {"source_hidden": True}},
    }
    if (nb.get("nbformat"), nb.get("nbformat_minor") or 0) >= (4, 5):
        cell["id"] = "ml-ship-spark"
    at = 1 if cells and PREAMBLE_TAG in ((cells[0].get("metadata") or {}).get("tags") or []) \
        else 0
    cells.insert(at, cell)
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def app_facts(run_dir: Path) -> dict[str, Any] | None:
    """What the session cell wrote: ``app_id``, ``ui_url``, ``master``, ``app_name``."""
    try:
        found = json.loads((run_dir / SPARK_DIR / APP_FILE).read_text())
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None
