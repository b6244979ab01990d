"""Checks of what a user hands us, made before anything reads it.

- ``inside``: a path a user names (in a notebook's ``metadata.ml_ship``, a ``ShipRequest``'s
  ``config``, a pipeline file) must resolve, symbolic links followed, inside a folder (the
  project folder; via the server also inside the server root). An absolute path or a ``..``
  that leaves the folder is a ``BadInput`` naming the key: the one confinement check.
- ``check_depth`` / ``load_json`` / ``load_yaml``: data nested deeper than ``MAX_DEPTH`` (a
  request body, a notebook, a ``-p`` value, a pipeline file) is a ``BadInput`` naming where,
  never a ``RecursionError`` from a parser, a validator or a translator further on.
"""

from __future__ import annotations

import json
import re
from pathlib import Path, PureWindowsPath
from typing import Any

from .errors import BadInput

#: the deepest nesting of lists and mappings accepted anywhere (JSON, YAML, notebooks)
MAX_DEPTH = 100


# ---- paths --------------------------------------------------------------------------------


def inside(value: object, *, base: Path, folder: Path, key: str,
           folder_name: str = "the project folder") -> Path:
    """The real path ``value`` names (relative to ``base``); refused, naming ``key``, unless
    it is a relative path that stays inside ``folder`` with its links resolved."""
    if not isinstance(value, str) or not value.strip() or "\x00" in value:
        raise BadInput(f"{key}: {value!r} is not a relative path")
    if Path(value).is_absolute() or PureWindowsPath(value).drive or value.startswith("\\"):
        raise BadInput(f"{key}: {value!r} is outside {folder_name} (give a path relative to "
                       "it)")
    top = folder.resolve()
    real = (base / value).resolve()
    if real != top and top not in real.parents:
        raise BadInput(f"{key}: {value!r} is outside {folder_name}")
    return real


# ---- nesting ------------------------------------------------------------------------------


def _where(prefix: str, path: list[str | int]) -> str:
    """``body.parameters.a.0.…``; a prefix ending in a space (``"nb.ipynb: "``) is kept as is."""
    keys = ".".join(str(p) for p in path[:4]) + (".…" if len(path) > 4 else "")
    if prefix.endswith(" "):
        return prefix + (keys or "top level")
    return ".".join(x for x in (prefix, keys) if x) or "value"


def _too_deep(where: str, limit: int) -> BadInput:
    return BadInput(f"{where}: nested more than {limit} levels deep")


def check_depth(value: Any, where: str = "", limit: int = MAX_DEPTH) -> Any:
    """``value`` itself; a ``BadInput`` naming the first key path nested deeper than
    ``limit`` lists and mappings (walked level by level, without recursion)."""
    level = [value] if isinstance(value, _NESTED) else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            raise _too_deep(_where(where, _deep_path(value, limit)), limit)
        below: list[Any] = []
        for item in level:
            below += [v for v in (item.values() if isinstance(item, dict) else item)
                      if isinstance(v, _NESTED)]
        level = below
    return value


_NESTED = (dict, list, tuple)


def _deep_path(value: Any, limit: int) -> list[str | int]:
    """The keys down to a list or mapping nested deeper than ``limit`` (it exists)."""
    stack: list[tuple[Any, list[str | int]]] = [(value, [])]
    while stack:
        item, path = stack.pop()
        if len(path) >= limit:
            return path
        pairs = item.items() if isinstance(item, dict) else enumerate(item)
        stack += [(v, [*path, k]) for k, v in pairs if isinstance(v, _NESTED)]
    return []  # pragma: no cover - only called when one exists


#: a JSON string, or one structural character
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{},:]', re.S)


def _text_depth_path(text: str, limit: int) -> list[str | int] | None:
    """Where JSON ``text`` first nests deeper than ``limit`` (a scan, no parse); None: it
    does not."""
    path: list[str | int] = []
    kinds: list[str] = []
    last: str | None = None
    for m in _TOKEN.finditer(text):
        tok = m.group()
        if tok in ("{", "["):
            if len(kinds) >= limit:
                return path
            kinds.append(tok)
            path.append("")
            if tok == "[":
                path[-1] = 0
        elif tok in ("}", "]"):
            if kinds:
                kinds.pop()
                path.pop()
        elif tok == ":":
            if kinds and last is not None:
                path[-1] = last
        elif tok == ",":
            if kinds and kinds[-1] == "[" and isinstance(path[-1], int):
                path[-1] += 1
        else:
            try:
                last = json.loads(tok)
            except ValueError:
                last = tok
            continue
        last = None
    return None


def load_json(text: str | bytes, where: str = "", limit: int = MAX_DEPTH) -> Any:
    """``json.loads`` with the depth checked; ``ValueError`` on malformed text as usual, a
    ``BadInput`` naming the spot when it nests too deep."""
    try:
        data = json.loads(text)
    except RecursionError:
        raw = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
        found = _text_depth_path(raw, limit)
        raise _too_deep(_where(where, found or []), limit) from None
    opening = text.count(b"[") + text.count(b"{") if isinstance(text, bytes) \
        else text.count("[") + text.count("{")
    return data if opening <= limit else check_depth(data, where, limit)


def load_yaml(text: str, where: str = "", limit: int = MAX_DEPTH) -> Any:
    """``yaml.safe_load`` with the depth checked (``yaml.YAMLError`` on bad text as usual)."""
    import yaml

    try:
        data = yaml.safe_load(text)
    except RecursionError:
        raise _too_deep(where or "value", limit) from None
    return check_depth(data, where, limit)
