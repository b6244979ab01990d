"""Step parameter templates: ``{{ params.Z }}``, ``{{ steps.X.outputs.Y }}`` and
``{{ steps.X.files['clean.csv'] }}`` (Jinja2, sandboxed).

``steps.X.files['PATH']`` is the path, readable by the step, of the file PATH that upstream step
X wrote (one of its run's artifacts, PATH relative to X's notebook's project folder).

A value that is one whole ``{{ expression }}`` keeps the JSON type of what it evaluates to (an
upstream ``rows`` of 500 arrives as the int 500); a template embedded in a longer string renders
to a string. References are found statically from the template's syntax tree, so a pipeline is
checked before anything runs.

Templates are evaluated with bounded work (``_sandbox``): a few bytes cannot hold the server for
seconds or fill its memory; going over a bound is a ``BadInput`` that names the spot.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import (
    StrictUndefined,
    TemplateError,
    TemplateSyntaxError,
    Undefined,
    UndefinedError,
    nodes,
)
from jinja2.sandbox import SecurityError
from jinja2.utils import missing

from ..errors import BadInput
from ._sandbox import BoundedEnvironment, budget, check_result, check_syntax, joined


class _Missing(StrictUndefined):
    """Fails on use, with a message in the pipeline's words."""

    @property
    def _undefined_message(self) -> str:
        if self._undefined_hint:
            return self._undefined_hint
        if self._undefined_obj is missing:
            return f"{self._undefined_name!r} is undefined"
        return f"{self._undefined_obj!r} has no {self._undefined_name!r}"


_ENV = BoundedEnvironment(undefined=_Missing, autoescape=False)
_WHOLE = re.compile(r"^\s*\{\{(?P<expr>(?:(?!\{\{|\}\}).)*)\}\}\s*$", re.S)


@dataclass(frozen=True)
class Ref:
    """One reference found in a template: ``params.day`` or ``steps.prepare.outputs.rows``."""

    kind: str  # "params", "steps" (an output) or "files" (an upstream step's file)
    name: str  # parameter name, or upstream step id
    output: str | None = None  # for steps: the output name; for files: the file's path

    def __str__(self) -> str:
        if self.kind == "params":
            return f"params.{self.name}"
        if self.kind == "files":
            return f"steps.{self.name}.files[{self.output!r}]"
        return f"steps.{self.name}.outputs.{self.output}"

    @property
    def upstream(self) -> bool:
        """Whether it reads what an upstream step produced."""
        return self.kind in ("steps", "files")


def check_file_path(path: str, where: str) -> str:
    """A file reference's path: relative, '/'-separated, inside the step's project folder."""
    parts = path.split("/")
    if not path or path.startswith("/") or "\\" in path or "\0" in path \
            or any(p in ("", ".", "..") for p in parts):
        raise BadInput(f"{where}: file {path!r}: give a path relative to the upstream step's "
                       "project folder, without '..' (e.g. 'clean.csv' or 'out/model.pkl')")
    return path


def _strings(value: Any, where: str) -> Iterator[tuple[str, str]]:
    """Every string inside a parameter value, with its location."""
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _strings(item, f"{where}[{i}]")
    elif isinstance(value, dict):
        for k, item in value.items():
            yield from _strings(item, f"{where}.{k}")


def _chain(node: nodes.Node) -> list[str] | None:
    """``a.b["c"].d`` → ``["a", "b", "c", "d"]``; None when not a plain access chain."""
    keys: list[str] = []
    while True:
        if isinstance(node, nodes.Getattr):
            keys.append(node.attr)
            node = node.node
        elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const) \
                and isinstance(node.arg.value, str):
            keys.append(node.arg.value)
            node = node.node
        elif isinstance(node, nodes.Name):
            keys.append(node.name)
            return keys[::-1]
        else:
            return None


def _walk(node: nodes.Node, found: list[list[str]]) -> None:
    if isinstance(node, (nodes.Getattr, nodes.Getitem, nodes.Name)):
        chain = _chain(node)
        if chain is not None:
            found.append(chain)
            return
    for child in node.iter_child_nodes():
        _walk(child, found)


def _parse(text: str, where: str) -> nodes.Template:
    """The template's syntax tree, checked against what a pipeline template may use."""
    try:
        tree = _ENV.parse(text)
    except TemplateSyntaxError as exc:
        raise BadInput(f"{where}: template error: {exc.message}") from None
    check_syntax(tree, where)
    return tree


def find_refs(value: Any, where: str) -> list[tuple[str, Ref]]:
    """All references in a parameter value; a malformed one is a ``BadInput`` naming the spot."""
    out: list[tuple[str, Ref]] = []
    for spot, text in _strings(value, where):
        if "{{" not in text and "{%" not in text:
            continue
        chains: list[list[str]] = []
        _walk(_parse(text, spot), chains)
        if not chains:  # a constant: it evaluates the same in every run, so evaluate it now
            render(text, {}, spot)
        for chain in chains:
            head = chain[0]
            if head == "params" and len(chain) >= 2:
                out.append((spot, Ref("params", chain[1])))
            elif head == "steps" and len(chain) >= 4 and chain[2] == "outputs":
                out.append((spot, Ref("steps", chain[1], chain[3])))
            elif head == "steps" and len(chain) == 4 and chain[2] == "files":
                out.append((spot, Ref("files", chain[1], check_file_path(chain[3], spot))))
            elif head in ("params", "steps"):
                raise BadInput(
                    f"{spot}: {'.'.join(chain)!r} is incomplete: write params.NAME, "
                    "steps.STEP.outputs.NAME or steps.STEP.files['PATH']"
                )
            else:
                raise BadInput(
                    f"{spot}: unknown name {head!r} in a template: only params.NAME, "
                    "steps.STEP.outputs.NAME and steps.STEP.files['PATH'] can be used"
                )
    return out


class _Namespace:
    """Attribute and item access to a mapping, without dict methods shadowing keys."""

    def __init__(self, data: Mapping[str, Any], what: str):
        self._data, self._what = data, what

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_"):
            raise AttributeError(key)
        try:
            return self._data[key]
        except KeyError:
            raise AttributeError(f"{self._what} has no {key!r}") from None

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __repr__(self) -> str:
        return self._what


def context(params: dict[str, Any], outputs: dict[str, dict[str, Any]],
            files: Mapping[str, Mapping[str, str]] | None = None) -> dict[str, Any]:
    """Template variables from pipeline parameters and the outputs (and the files: path ->
    where to read it) of finished steps."""
    files = files or {}

    def wrote(sid: str) -> str:
        names = sorted(files.get(sid) or {})
        return (f"the files step {sid} wrote ({', '.join(names[:10])})" if names else
                f"the files step {sid} wrote (none)")

    steps = {
        sid: _Namespace({"outputs": _Namespace(out, f"step {sid}'s outputs"),
                         "files": _Namespace(files[sid] if sid in files else {}, wrote(sid))},
                   f"step {sid}")
        for sid, out in outputs.items()
    }
    return {"params": _Namespace(params, "params"), "steps": _Namespace(steps, "steps")}


def render(value: Any, ctx: dict[str, Any], where: str) -> Any:
    """A parameter value with every template resolved (JSON types kept for whole references)."""
    if isinstance(value, list):
        return [render(v, ctx, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {k: render(v, ctx, f"{where}.{k}") for k, v in value.items()}
    if not isinstance(value, str) or ("{{" not in value and "{%" not in value):
        return value
    try:
        with budget(where):
            tree = _parse(value, where)
            whole = _WHOLE.match(value)
            if not whole:
                return joined(_ENV.from_string(tree).generate(**ctx))
            result = _ENV.compile_expression(whole["expr"], undefined_to_none=False)(**ctx)
            if isinstance(result, Undefined):
                result._fail_with_undefined_error()
            if isinstance(result, _Namespace):
                raise BadInput(f"{where}: {value.strip()} is not a single value")
            check_result(result)
            json.dumps(result, allow_nan=False)
            return result
    except BadInput:
        raise
    except (UndefinedError, AttributeError, SecurityError) as exc:
        raise BadInput(f"{where}: cannot resolve {value.strip()!r}: {exc}") from None
    except TemplateSyntaxError as exc:
        raise BadInput(f"{where}: template error: {exc.message}") from None
    except (TypeError, ValueError) as exc:
        raise BadInput(f"{where}: {value.strip()!r} is not a JSON value: {exc}") from None
    except (ArithmeticError, LookupError, TemplateError) as exc:  # 1 // 0, a bad filter call
        raise BadInput(f"{where}: cannot evaluate {value.strip()!r}: "
                       f"{type(exc).__name__}: {exc}") from None
