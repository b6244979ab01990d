"""A ``triggers`` value checked (a job's metadata or a pipeline file's key): ``TriggerSpec``s,
or a ``BadInput`` naming the key; the files a files trigger sees; the webhook token's hash."""

from __future__ import annotations

import glob as globlib
import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from ...errors import BadInput
from ...naming import check_name

KINDS = ("webhook", "files", "after")
DEFAULT_PARAMETER = "trigger_file"
_KEYS = {*KINDS, "environment", "parameter"}
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")


@dataclass
class TriggerSpec:
    kind: str
    environment: str = "production"
    detail: dict[str, Any] = field(default_factory=dict)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def parse_triggers(raw: Any, environments: list[str], where: str,
                   noun: str = "job") -> list[TriggerSpec]:
    """``triggers`` checked: a ``BadInput`` naming the key otherwise."""
    if raw is None:
        return []
    items = [raw] if isinstance(raw, dict) else raw
    if not isinstance(items, list):
        raise BadInput(f"{where}: an object ({{\"webhook\": true}}, {{\"files\": GLOB}}, "
                       f"{{\"after\": [JOB]}}) or a list of them, got {type(raw).__name__}")
    specs: list[TriggerSpec] = []
    for i, item in enumerate(items):
        at = f"{where}[{i}]" if isinstance(raw, list) else where
        if not isinstance(item, dict):
            raise BadInput(f"{at}: an object is needed, got {type(item).__name__}")
        unknown = sorted(set(map(str, item)) - _KEYS)
        if unknown:
            raise BadInput(f"{at}.{unknown[0]}: unknown key (keys: {', '.join(sorted(_KEYS))})")
        kinds = [k for k in KINDS if k in item]
        if len(kinds) != 1:
            raise BadInput(f"{at}: exactly one of webhook, files, after per trigger")
        kind = kinds[0]
        env = item.get("environment", "production")
        if not isinstance(env, str) or env not in environments:
            raise BadInput(f"{at}.environment: no environment named {env!r} (environments: "
                           f"{', '.join(environments)})")
        if "parameter" in item and kind != "files":
            raise BadInput(f"{at}.parameter: only a files trigger takes a parameter")
        value = item[kind]
        spec = TriggerSpec(kind, env)
        if kind == "webhook":
            if value is not True:
                if value is False:
                    continue
                raise BadInput(f"{at}.webhook: true or false, got {value!r}")
        elif kind == "files":
            spec.detail = {"glob": _check_glob(value, f"{at}.files"),
                           "parameter": _check_parameter(item.get("parameter"),
                                                         f"{at}.parameter")}
        else:
            names = [value] if isinstance(value, str) else value
            if not isinstance(names, list) or not names or not all(
                    isinstance(n, str) for n in names):
                raise BadInput(f"{at}.after: a job or pipeline name, or a list of them")
            try:
                spec.detail = {"upstream": sorted({check_name(n) for n in names})}
            except BadInput as exc:
                raise BadInput(f"{at}.after: {exc.message}") from None
        if any(s.kind == kind for s in specs):
            raise BadInput(f"{at}: a second {kind} trigger (one of each kind per {noun})")
        specs.append(spec)
    return specs


def _check_glob(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BadInput(f"{where}: a glob relative to the project folder, e.g. "
                       "'data/incoming/*.csv'")
    clean = value.replace("\\", "/")
    if clean.startswith("/") or re.match(r"^[A-Za-z]:", clean) or "\x00" in clean:
        raise BadInput(f"{where}: {value!r} is absolute: give a glob relative to the project "
                       "folder")
    if ".." in PurePosixPath(clean).parts:
        raise BadInput(f"{where}: {value!r} leads out of the project folder ('..')")
    if len(clean) > 500:
        raise BadInput(f"{where}: longer than 500 characters")
    return clean


def _check_parameter(value: Any, where: str) -> str:
    if value is None:
        return DEFAULT_PARAMETER
    if not isinstance(value, str) or not _IDENT.match(value):
        raise BadInput(f"{where}: a parameter name, got {value!r}")
    return value


def matching_files(root: str, pattern: str) -> list[str]:
    """The files under ``root`` matching ``pattern`` whose real path stays inside ``root``."""
    top = os.path.realpath(root)
    found = []
    for path in sorted(globlib.glob(os.path.join(globlib.escape(top), pattern),
                                    recursive=True)):
        real = os.path.realpath(path)
        if real.startswith(top + os.sep) and os.path.isfile(real):
            found.append(real)
    return found


def find_cycle(edges: dict[str, list[str]], start: str) -> list[str] | None:
    """A path start -> … -> start following the upstream edges, if there is one."""
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    seen: set[str] = set()
    while stack:
        node, path = stack.pop()
        for up in edges.get(node, []):
            if up == start:
                return [*path, up]
            if up not in seen:
                seen.add(up)
                stack.append((up, [*path, up]))
    return None
