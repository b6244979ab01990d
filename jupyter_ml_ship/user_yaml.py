"""YAML a user wrote (a pipeline file, a ``-p`` value), read with bounded work.

PyYAML builds an alias (``*name``) as the same object as its anchor, so a few hundred bytes
("billion laughs": ten anchors, each a list of ten aliases of the one before) load instantly
and then stand for 10**9 values that anything walking or serialising them (JSON, a digest, the
line map of a pipeline file) expands, in memory and time. Here the composed node graph is
measured first, counting each alias as often as it is used: more than ``MAX_VALUES`` values
from aliases, or an alias inside its own anchor (an infinite value), is a ``BadInput``. Aliases
that stay small (a shared block of step parameters) keep working.
"""

from __future__ import annotations

from typing import Any

import yaml

from .errors import BadInput
from .untrusted import MAX_DEPTH

#: the most values (scalars, lists, mappings) a YAML document may stand for once its aliases
#: are expanded, when it uses aliases
MAX_VALUES = 100_000


def check_aliases(root: yaml.Node, where: str) -> None:
    """``BadInput`` when aliases expand ``root`` past ``MAX_VALUES`` values, or make it
    infinite. Iterative (a deep document cannot exhaust Python's stack here); each node is
    measured once, so the work is linear in the document's text."""
    size: dict[int, int] = {}  # id(node) -> values it stands for (capped), once measured
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    distinct = 0
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        kids = _children(node)
        if children_done:
            on_path.discard(key)
            size[key] = min(1 + sum(size[id(k)] for k in kids), MAX_VALUES + 1)
            continue
        if key in size:
            continue
        if key in on_path:
            raise BadInput(f"{where}: an alias (*name) inside its own anchor (&name) makes an "
                           "endless value: write the value out")
        on_path.add(key)
        distinct += 1
        stack.append((node, True))
        for kid in kids:
            if id(kid) in on_path:
                raise BadInput(f"{where}: an alias (*name) inside its own anchor (&name) makes "
                               "an endless value: write the value out")
            if id(kid) not in size:
                stack.append((kid, False))
    total = size[id(root)]
    if total > MAX_VALUES and total > distinct:
        raise BadInput(f"{where}: its aliases (*name) expand it to more than {MAX_VALUES:,} "
                       "values: write the values out, or share less")


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def compose(text: str, where: str) -> tuple[yaml.Node | None, yaml.SafeLoader]:
    """The node graph of one YAML document, its aliases checked, and the loader to construct
    it with (``loader.construct_document(node)``; dispose of the loader after). YAML errors
    propagate as PyYAML's."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            check_aliases(node, where)
            check_nesting(node, where)
    except RecursionError:  # PyYAML's composer recurses per level: far too deep
        loader.dispose()
        raise BadInput(f"{where}: nested more than {MAX_DEPTH} levels deep") from None
    except BaseException:
        loader.dispose()
        raise
    return node, loader


def check_nesting(root: yaml.Node, where: str) -> None:
    """``BadInput`` when lists and mappings nest deeper than ``untrusted.MAX_DEPTH`` (what
    builds and walks the value recurses per level). Iterative; after ``check_aliases``, so
    the walk is bounded too."""
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        kids = _children(node)
        if depth > MAX_DEPTH and isinstance(node, yaml.MappingNode | yaml.SequenceNode):
            raise BadInput(f"{where}, line {node.start_mark.line + 1}: nested more than "
                           f"{MAX_DEPTH} levels deep")
        stack += [(kid, depth + 1) for kid in kids]


def safe_load(text: str, where: str) -> Any:
    """``yaml.safe_load`` with the alias check (``BadInput``); YAML errors propagate."""
    node, loader = compose(text, where)
    try:
        return loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
