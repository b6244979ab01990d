"""Command steps: ``command: ["python", "make_features.py"]`` or ``command: "dbt run --select
{{ params.model }}"`` in a pipeline file.

A command step ships as a small generated notebook (a job like any other step's), so it runs
through the same runner as a notebook: in the step's project copy (the pipeline file's folder),
with the same logs, retries, timeouts, cancel, files between steps, status and Airflow tasks.

The command never goes through a shell: a string is split with ``shlex.split`` (each template
kept whole) *before* its templates are rendered, so a template's value is always one argument (a value holding spaces,
quotes or ``;`` cannot add arguments or commands). Write ``["sh", "-c", "..."]`` to want a shell.

The command's outputs are the keys of the JSON object it writes to the file named by
``$ML_SHIP_OUTPUTS`` (no file: no outputs). A non-zero exit status fails the step. On cancel or
timeout the runner interrupts the kernel, which kills the command's whole process group.
"""

from __future__ import annotations

import re
import shlex
from typing import Any

from ..errors import BadInput
from ..outputs import _NAME, OUTPUT_MIMETYPE

#: the generated notebook's parameter holding the argv (templates rendered per run)
PARAMETER = "command"
_TEMPLATE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)

_RUN = '''\
def _ml_ship_command(argv):
    """Run argv (no shell) in this folder; stream its output; record $ML_SHIP_OUTPUTS."""
    import json, os, re, shlex, signal, subprocess, sys, tempfile
    from IPython.display import display

    argv = [a if isinstance(a, str) else json.dumps(a) for a in argv]
    folder = tempfile.mkdtemp(prefix="ml-ship-outputs-")
    outputs = os.path.join(folder, "outputs.json")
    env = dict(os.environ, ML_SHIP_OUTPUTS=outputs)

    def _die_with_kernel():  # the kernel killed hard: the command goes too
        try:
            import ctypes
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except Exception:
            pass

    print("$ " + " ".join(shlex.quote(a) for a in argv), flush=True)
    try:
        proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, start_new_session=True,
                                preexec_fn=_die_with_kernel)
    except FileNotFoundError:
        raise RuntimeError(f"command not found: {argv[0]!r}") from None
    try:
        for line in iter(proc.stdout.readline, b""):
            sys.stdout.write(line.decode(errors="replace"))
            sys.stdout.flush()
        status = proc.wait()
    except BaseException:  # interrupted (cancel, timeout): stop the command's process group
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(5)
                os.killpg(proc.pid, signal.SIGKILL)  # what it started, if still there
                break
            except subprocess.TimeoutExpired:
                pass
            except ProcessLookupError:
                break
        print(f"ml-ship: stopped the command {argv[0]!r} and its process group", flush=True)
        raise
    if status != 0:
        raise RuntimeError(f"command {argv[0]!r} exited with status {status}")
    if not os.path.exists(outputs):
        return
    with open(outputs) as fh:
        data = json.load(fh)
    if not isinstance(data, dict):
        raise ValueError("the file at $ML_SHIP_OUTPUTS must hold a JSON object of outputs")
    for name, value in data.items():
        if not re.match(NAME, name):
            raise ValueError(f"$ML_SHIP_OUTPUTS: output name {name!r} is not allowed; "
                             "use letters, digits, '_', '.', '-'")
        display({MIME: {"name": name, "value": value}, "text/plain": f"{name} = {value!r}"},
                raw=True)


_ml_ship_command(command)
'''


def parse_command(raw: Any, where: str) -> list[str]:
    """The command's arguments as written (templates not rendered yet); ``where`` names the key."""
    if isinstance(raw, str):  # split around the templates: each stays whole in its argument
        held: list[str] = []

        def hold(m: re.Match[str]) -> str:
            held.append(m.group(0))
            return f"\0{len(held) - 1}\0"

        try:
            argv = shlex.split(_TEMPLATE.sub(hold, raw.replace("\0", "")))
        except ValueError as exc:
            raise BadInput(f"{where}: cannot split the command into arguments: {exc}") from None
        argv = [re.sub("\0(\\d+)\0", lambda m: held[int(m.group(1))], a) for a in argv]
    elif isinstance(raw, list) and all(isinstance(a, (str, int, float)) and not isinstance(a, bool)
                                       for a in raw):
        argv = [str(a) for a in raw]
    else:
        raise BadInput(f"{where}: a list of arguments (['python', 'make.py']) or a string "
                       f"('dbt run --select {{{{ params.model }}}}') is needed, got {raw!r}")
    if not argv or not argv[0].strip():
        raise BadInput(f"{where}: the command is empty")
    return argv


def command_notebook(job: str, argv: list[str]) -> dict[str, Any]:
    """The notebook a command step ships as: a parameters cell holding the argv, then the run."""
    run = (_RUN.replace("re.match(NAME,", f"re.match({_NAME.pattern!r},")
           .replace("{MIME:", f"{{{OUTPUT_MIMETYPE!r}:"))
    return {
        "nbformat": 4, "nbformat_minor": 5,
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
            "ml_ship": {"name": job},
        },
        "cells": [
            {"cell_type": "markdown", "id": "about", "metadata": {},
             "source": f"Command step (generated by ml-ship): `{shlex.join(argv)}`"},
            {"cell_type": "code", "id": "parameters", "metadata": {"tags": ["parameters"]},
             "execution_count": None, "outputs": [], "source": f"{PARAMETER} = {argv!r}"},
            {"cell_type": "code", "id": "run", "metadata": {}, "execution_count": None,
             "outputs": [], "source": run},
        ],
    }
