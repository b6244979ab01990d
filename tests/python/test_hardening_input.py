"""Hardening (#20, items 2 and 3): a schedule that never fires is refused when shipped and, if
already stored, breaks nothing but itself; tiny inputs that would make unbounded work (a YAML
alias bomb, a template bomb) are refused at once, and the server keeps answering meanwhile."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from jupyter_ml_ship.config import MlShip
from jupyter_ml_ship.core import ShipService
from jupyter_ml_ship.errors import BadInput
from jupyter_ml_ship.pipelines.spec import load_pipeline

from .conftest import make_notebook
from .test_server import (  # noqa: F401  (fixtures)
    Api,
    api,
    authorizer_class,
    error_of,
    jp_server_config,
    js,
    ml_home,
)

# ---- item 2: schedules that never fire ----------------------------------------------------

#: (expression, what ship says: None = accepted)
SCHEDULES = [
    ("0 0 31 2 *", "never fires"),  # Feb 31
    ("0 0 30 2 *", "never fires"),  # Feb 30
    ("* * 31 2 *", "never fires"),
    ("0 0 31 4,6,9,11 *", "never fires"),  # the 30-day months
    ("0 0 30,31 2 *", "never fires"),
    ("0 0 31 2/12 *", "never fires"),  # February only, by a step
    ("0 0 * 2 1#5", "never fires"),  # a fifth Monday in February: once in 28 years
    ("@reboot", "is not a schedule"),  # cron's, not Airflow's: no time at all
    ("R 6 * * *", "random fields"),  # croniter picks another minute at every reading
    ("0 0 29 2 *", None),  # leap day: every 4 years (8 across 2100)
    ("0 0 L 2 *", None),  # the last day of February
    ("0 0 31 * *", None),  # the months that have a 31st
    ("0 0 31 2 1", None),  # day OR weekday (cron's rule): every Monday of February too
    ("0 6 * * MON-FRI", None),
    ("@daily", None),
]


@pytest.mark.parametrize(("expression", "refusal"), SCHEDULES)
def test_a_schedule_that_never_fires_is_refused_at_ship(svc: ShipService, nb: Any, tmp_path: Path,
                                                        expression: str,
                                                        refusal: str | None) -> None:
    path = nb("sched.ipynb", "print(1)", metadata={"ml_ship": {"schedule": expression}})
    pipe = tmp_path / "work" / "sched.pipeline.yaml"
    pipe.write_text(f"schedule: {json.dumps(expression)}\nsteps:\n  a: {{notebook: sched.ipynb}}\n")
    if refusal is None:
        assert svc.ship(path).version.config["schedule"] == expression
        assert load_pipeline(pipe).schedule == expression
        return
    quoted = repr(expression).replace("*", r"\*").replace("+", r"\+")
    with pytest.raises(BadInput, match=rf"sched.ipynb: metadata.ml_ship.schedule: {quoted}.*"
                                       f"{refusal}"):
        svc.ship(path)
    with pytest.raises(BadInput, match=rf"sched.pipeline.yaml, line 1: schedule: {quoted}.*"
                                       f"{refusal}"):
        load_pipeline(pipe)
    assert svc.jobs() == []


def store_schedule(svc: ShipService, job: str, number: int, schedule: str) -> None:
    """Write a schedule into a stored version directly (as a store older than the check has)."""
    from jupyter_ml_ship.store.schema import Job, Version

    with svc.store.session() as s:
        job_id = s.scalar(select(Job.id).where(Job.name == job))
        config = dict(s.scalar(select(Version.config).where(
            Version.job_id == job_id, Version.number == number)) or {})
        s.execute(update(Version).where(Version.job_id == job_id, Version.number == number)
                  .values(config={**config, "schedule": schedule}))


def at(hh: int, mm: int) -> datetime:
    return datetime(2026, 11, 26, hh, mm, 30, tzinfo=timezone.utc)


def test_a_stored_schedule_that_never_fires_breaks_only_itself(svc: ShipService, nb: Any,
                                                               cli_env: dict[str, str]) -> None:
    every = {"ml_ship": {"schedule": "*/5 * * * *"}}
    svc.ship(nb("good.ipynb", "print('good ran')", metadata=every))
    svc.ship(nb("bad.ipynb", "print('bad ran')", metadata=every))
    store_schedule(svc, "bad", 1, "0 0 31 2 *")

    jobs = {j.name: j for j in svc.jobs()}
    assert jobs["good"].next_run is not None and jobs["good"].schedule_error is None
    assert jobs["bad"].next_run is None
    assert "'0 0 31 2 *' never fires" in (jobs["bad"].schedule_error or "")
    listed = {s.name: s for s in svc.schedules()}
    assert listed["bad"].next_run is None and "never fires" in (listed["bad"].schedule_error or "")

    cli = subprocess.run([sys.executable, "-m", "jupyter_ml_ship", "jobs"], env=cli_env,
                         capture_output=True, text=True, timeout=120)
    assert cli.returncode == 0, cli.stderr
    assert "good" in cli.stdout and "bad" in cli.stdout
    assert "bad v1: metadata.ml_ship.schedule: '0 0 31 2 *' never fires" in cli.stderr

    # the tick: the bad schedule is said once, the good one keeps firing
    first = svc.tick(discover=False, now=at(10, 2))
    assert first.errors == []
    assert [(s.name, o) for s, o in first.fired] == [
        ("bad", "error: not run: '0 0 31 2 *' never fires: no date matches it (checked 8 years "
                "ahead)")]
    second = svc.tick(discover=False, now=at(10, 6))
    assert second.errors == []
    [(sched, run_id)] = second.fired  # the bad one is not said again
    assert sched.name == "good" and not run_id.startswith("error")
    assert svc.wait(run_id, 120).status == "succeeded"


def test_a_rollback_to_a_version_whose_schedule_never_fires_changes_nothing(
        svc: ShipService, nb: Any, tmp_path: Path) -> None:
    from jupyter_ml_ship.store.schema import Event, PipelineVersion

    svc.ship(nb("r.ipynb", "print(1)", metadata={"ml_ship": {"schedule": "@daily"}}))
    svc.ship(nb("r.ipynb", "print(2)", metadata={"ml_ship": {"schedule": "@daily"}}))
    store_schedule(svc, "r", 1, "0 0 30 2 *")
    with pytest.raises(BadInput, match=r"r v1: metadata.ml_ship.schedule: '0 0 30 2 \*' never"):
        svc.rollback("r", 1)
    assert svc.job("r").current_version == 2
    with svc.store.session() as s:
        assert s.scalars(select(Event.kind).where(Event.kind == "rollback")).all() == []

    pipe = tmp_path / "work" / "p.pipeline.yaml"
    for n in (1, 2):
        pipe.write_text(f"schedule: '@daily'\nparameters: {{n: {n}}}\nsteps:\n"
                        "  a: {notebook: r.ipynb}\n")
        svc.ship_pipeline(pipe)
    with svc.store.session() as s:
        s.execute(update(PipelineVersion).where(PipelineVersion.number == 1).values(
            spec={**s.scalar(select(PipelineVersion.spec).where(PipelineVersion.number == 1)),
                  "schedule": "0 0 31 4,6,9,11 *"}))
    with pytest.raises(BadInput, match=r"pipeline p v1: schedule: '0 0 31 4,6,9,11 \*' never"):
        svc.rollback_pipeline("p", 1)
    assert svc.pipeline("p").current_version == 2
    assert svc.rollback("r", 2).current_version == 2  # a good one still rolls back



# ---- item 3: unbounded work from a tiny input ---------------------------------------------

#: 415 bytes that PyYAML loads in no time and that stand for 9**9 (387 million) strings
ALIAS_BOMB = """\
name: bomb
parameters:
  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
  b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
  c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
  d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
  e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
  f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
  g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
  h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
  i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
steps:
  s: {notebook: a.ipynb}
"""
TEMPLATE_BOMB = "{{ (7 ** 10000000) % 10 }}"


def pipeline_file(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.pipeline.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_yaml_aliases_are_bounded_in_pipeline_files_and_parameter_values(tmp_path: Path) -> None:
    from jupyter_ml_ship.cli._common import parse_value

    started = time.monotonic()
    with pytest.raises(BadInput, match=r"bomb.pipeline.yaml: its aliases \(\*name\) expand it "
                                       r"to more than 100,000 values"):
        load_pipeline(pipeline_file(tmp_path, "bomb", ALIAS_BOMB))
    with pytest.raises(BadInput, match=r"-p rows: its aliases"):  # ml-ship run J -p rows '…'
        parse_value("{a: &a [1,1,1,1,1,1,1,1,1,1], b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a], "
                    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b], d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c], "
                    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d], f: [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]}",
                    "-p rows")
    with pytest.raises(BadInput, match=r"-p x: an alias \(\*name\) inside its own anchor"):
        parse_value("&a [*a]", "-p x")
    assert time.monotonic() - started < 1
    # aliases that stay small still work: a shared block of step parameters
    spec = load_pipeline(pipeline_file(tmp_path, "shared", """\
steps:
  a: {notebook: a.ipynb, parameters: &common {day: "2024-01-01", rows: 10}}
  b: {notebook: b.ipynb, parameters: *common}
"""))
    assert spec.steps["b"].parameters == {"day": "2024-01-01", "rows": 10}
    assert parse_value("[&x [1, 2], *x]", "-p n") == [[1, 2], [1, 2]]


#: (template, what a run says when it refuses it, else None, and then the value it gives)
TEMPLATES: list[tuple[str, str | None, Any]] = [
    (TEMPLATE_BOMB, r"7 \*\* 10000000 is over 10,000 bits", None),
    ("{{ params.n ** params.huge }}", r"3 \*\* 10000000 is over 10,000 bits", None),
    ("{{ 'x' * 10 ** 9 }}", "repeating 1 characters or items 1,000,000,000 times", None),
    ("{{ params.day * params.huge }}", "repeating 10 characters", None),
    ("{{ '%0999999999d' % 1 }}", "a % format with a width", None),
    ("{{ params.day | center(10 ** 9) }}", "the filter 'center' is not allowed", None),
    ("{{ params.day.center(10 ** 9) }}", r"calling center\(\) is not allowed", None),
    ("{{ params.day.replace('-', params.day * 90000) }}", "over 1,000,000 characters", None),
    ("{% for i in params.list %}{% for j in params.list %}x{% endfor %}{% endfor %}",
     r"a loop \(\{% for %\}\) is not allowed", None),
    ("{{ range(10 ** 5) | list }}", r"calling range\(\) is not allowed", None),
    ("{{ 1 // 0 }}", "ZeroDivisionError", None),
    ("{{ params.n * 2 + 1 }}", None, 7),
    ("{{ params.day | replace('-', '') }}", None, "20240101"),
    ("{{ params.day.split('-') | join('/') }}", None, "2024/01/01"),
    ("{% if params.n > 2 %}many{% else %}few{% endif %}", None, "many"),
    ("{{ 2 ** 64 }}", None, 2 ** 64),
]


@pytest.mark.parametrize(("template", "refusal", "value"), TEMPLATES)
def test_templates_are_evaluated_with_bounded_work(template: str, refusal: str | None,
                                                   value: Any) -> None:
    from jupyter_ml_ship.pipelines.templates import context, render

    ctx = context({"n": 3, "huge": 10_000_000, "day": "2024-01-01", "list": list(range(5000))},
                  {})
    started = time.monotonic()
    if refusal is None:
        assert render(template, ctx, "steps.s.parameters.p") == value
    else:
        with pytest.raises(BadInput, match=rf"steps.s.parameters.p: .*{refusal}"):
            render(template, ctx, "steps.s.parameters.p")
    assert time.monotonic() - started < 1


POWER = """\
name: power
parameters: {base: 7, exponent: 2}
steps:
  s: {notebook: a.ipynb, parameters: {n: "{{ params.base ** params.exponent }}"}}
"""


def test_pipeline_check_refuses_what_a_run_would_refuse(svc: ShipService, nb: Any,
                                                        tmp_path: Path) -> None:
    nb("a.ipynb", "print(n)", params="n = 0")
    work = tmp_path / "work"
    constant = pipeline_file(work, "constant", f'steps:\n  s: {{notebook: a.ipynb, parameters: '
                                               f'{{n: "{TEMPLATE_BOMB}"}}}}\n')
    with pytest.raises(BadInput, match=r"constant.pipeline.yaml, line 2: steps.s.parameters.n: "
                                       r"7 \*\* 10000000 is over 10,000 bits"):
        svc.describe_pipeline_file(constant)
    by_default = pipeline_file(work, "power", POWER.replace("exponent: 2", "exponent: 10000000"))
    with pytest.raises(BadInput, match=r"power.pipeline.yaml, line 4: steps.s.parameters.n: "
                                       r"7 \*\* 10000000 is over 10,000 bits"):
        svc.describe_pipeline_file(by_default)
    with pytest.raises(BadInput, match=r"a loop \(\{% for %\}\) is not allowed"):
        svc.describe_pipeline_file(pipeline_file(
            work, "loop", 'steps:\n  s: {notebook: a.ipynb, parameters: '
                          '{n: "{% for i in [1] %}{% endfor %}"}}\n'))
    assert svc.pipelines() == []
    assert [s.id for s in svc.describe_pipeline_file(
        pipeline_file(work, "power", POWER)).steps] == ["s"]


async def test_bombs_sent_to_the_server_get_400_at_once_while_it_keeps_answering(
        api: Api, jp_root_dir: Path, ml_home: Path) -> None:  # noqa: F811
    make_notebook(jp_root_dir / "a.ipynb", "print(n)", params="n = 0")
    make_notebook(jp_root_dir / "sched.ipynb", "print(1)",
                  metadata={"ml_ship": {"schedule": "*/5 * * * *"}})
    pipeline_file(jp_root_dir, "alias", ALIAS_BOMB)
    pipeline_file(jp_root_dir, "constant", f'steps:\n  s: {{notebook: a.ipynb, parameters: '
                                           f'{{n: "{TEMPLATE_BOMB}"}}}}\n')
    pipeline_file(jp_root_dir, "power", POWER)
    await api("POST", "pipelines", body={"path": "power.pipeline.yaml"}, expect=201)
    await api("POST", "ship", body={"path": "sched.ipynb"}, expect=201)
    loop = asyncio.get_running_loop()

    async def timed(*request: Any, **kw: Any) -> tuple[Any, float]:
        started = loop.time()
        r = await api(*request, **kw)
        return r, loop.time() - started

    bombs = [
        (("POST", "pipelines"), {"path": "alias.pipeline.yaml"}, "expand it to more than"),
        (("POST", "pipelines"), {"path": "constant.pipeline.yaml"}, "over 10,000 bits"),
        (("POST", "pipelines", "power", "runs"), {"parameters": {"exponent": 10_000_000}},
         r"7 \*\* 10000000 is over 10,000 bits"),
    ]
    for request, body, said in bombs:
        (bomb, took), (health, answered) = await asyncio.gather(
            timed(*request, body=body, expect=400), timed("GET", "health"))
        code, message = error_of(bomb)
        assert code == "bad_request" and re.search(said, message), message
        assert took < 1 and answered < 1, (request, took, answered)
        assert js(health)["version"]

    # a schedule that never fires, stored before ship checked that: the listings still answer
    store = ShipService(MlShip(home=str(ml_home), freeze_environment=False))
    try:
        store_schedule(store, "sched", 1, "0 0 31 2 *")
    finally:
        store.close()
    [job] = [j for j in js(await api("GET", "jobs"))["jobs"] if j["name"] == "sched"]
    assert job["next_run"] is None and "'0 0 31 2 *' never fires" in job["schedule_error"]
    [listed] = js(await api("GET", "schedules"))["schedules"]
    assert listed["next_run"] is None and "never fires" in listed["schedule_error"]
    assert js(await api("GET", "pipelines", "power", "runs"))["runs"] == []
