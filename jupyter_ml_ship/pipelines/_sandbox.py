"""The Jinja2 environment step parameter templates run in: sandboxed, and bounded.

Jinja's sandbox keeps a template from Python's internals, not from unbounded work: a template
of a few bytes (``{{ 7 ** 10000000 }}``, ``{{ 'x' * 10 ** 9 }}``, ``{{ 'x' | center(10 ** 9) }}``)
holds the GIL for seconds or allocates gigabytes — in the server, every request waits. So:

- the syntax is checked first (``check_syntax``): expressions, ``{% if %}`` and
  ``{% filter %}``; no loops, ``set``, macros or includes; calls only of the few methods in
  ``METHODS``; only the filters in ``FILTERS`` (each one's result is about the size of its input);
- arithmetic and those calls are checked before they run: integers up to ``MAX_INT_BITS`` bits,
  strings, lists and mappings up to ``MAX_LENGTH`` characters or items (also what a whole
  template renders to, see ``templates.render``);
- each evaluation has a deadline, ``MAX_SECONDS``, checked at every operation.

Going over a bound is a ``BadInput`` that names the spot and the bound.
"""

from __future__ import annotations

import contextlib
import functools
import re
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

from jinja2 import nodes
from jinja2.defaults import DEFAULT_FILTERS
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ..errors import BadInput

#: the largest integer a template may compute, in bits (about 3,000 decimal digits)
MAX_INT_BITS = 10_000
#: the most characters (or items) a string, list or mapping built by a template may have
MAX_LENGTH = 1_000_000
#: the longest one template value may take to evaluate
MAX_SECONDS = 1.0

#: filters whose result is bounded by their input (those that pad, repeat or batch are not)
FILTERS = frozenset({
    "abs", "attr", "capitalize", "count", "d", "default", "dictsort", "e", "escape", "first",
    "float", "forceescape", "groupby", "int", "items", "join", "last", "length", "list",
    "lower", "map", "max", "min", "reject", "rejectattr", "replace", "reverse", "round",
    "safe", "select", "selectattr", "sort", "string", "sum", "title", "tojson", "trim",
    "truncate", "unique", "upper", "urlencode", "wordcount", "filesizeformat",
})
#: methods a template may call (of strings, lists and mappings): none pads or repeats
METHODS = frozenset({
    "split", "rsplit", "splitlines", "partition", "rpartition", "strip", "lstrip", "rstrip",
    "lower", "upper", "title", "capitalize", "casefold", "swapcase", "startswith", "endswith",
    "count", "find", "rfind", "index", "rindex", "removeprefix", "removesuffix", "replace",
    "join", "isdigit", "isdecimal", "isnumeric", "isalpha", "isalnum", "isspace", "islower",
    "isupper", "keys", "values", "items", "get",
})
#: the syntax a template may use (expressions, if, filter blocks)
_NODES = (
    nodes.Template, nodes.Output, nodes.TemplateData, nodes.Const, nodes.Name, nodes.Getattr,
    nodes.Getitem, nodes.Slice, nodes.Filter, nodes.Test, nodes.BinExpr, nodes.Concat,
    nodes.UnaryExpr, nodes.Compare, nodes.Operand, nodes.CondExpr, nodes.If, nodes.List,
    nodes.Tuple, nodes.Dict, nodes.Pair, nodes.Keyword, nodes.FilterBlock, nodes.Call,
)
_STATEMENTS: dict[type[nodes.Node], str] = {
    nodes.For: "a loop ({% for %})", nodes.Assign: "{% set %}", nodes.AssignBlock: "{% set %}",
    nodes.Macro: "a macro", nodes.CallBlock: "a macro call", nodes.Include: "{% include %}",
    nodes.Import: "{% import %}", nodes.FromImport: "{% from … import %}",
    nodes.Extends: "{% extends %}", nodes.Block: "a block", nodes.With: "{% with %}",
}
#: printf-style widths and precisions: ``%10d``, ``%.3f``, ``%*d``
_PRINTF = re.compile(r"%(?:\([^)]*\))?[#0 +-]*(\*|\d+)?(?:\.(\*|\d+))?")


class Unbounded(BadInput):
    """A template that would make more work than the bounds allow (whatever its parameters)."""


def check_syntax(tree: nodes.Template, where: str) -> None:
    """``BadInput`` for syntax a pipeline template may not use (see the module's notes)."""
    for node in tree.find_all(nodes.Node):
        if not isinstance(node, _NODES):
            what = _STATEMENTS.get(type(node), f"'{type(node).__name__}'")
            raise BadInput(f"{where}: {what} is not allowed in a pipeline template: use "
                           "references (params.NAME, steps.STEP.outputs.NAME), operators, "
                           "{% if %} and filters")
        if isinstance(node, nodes.Filter) and node.name not in FILTERS:
            raise BadInput(f"{where}: the filter {node.name!r} is not allowed in a pipeline "
                           f"template (allowed: {', '.join(sorted(FILTERS))})")
        if isinstance(node, nodes.Call) and not (
                isinstance(node.node, nodes.Getattr) and node.node.attr in METHODS
                and node.dyn_args is None and node.dyn_kwargs is None):
            called = node.node.attr if isinstance(node.node, nodes.Getattr) else \
                getattr(node.node, "name", "that")
            raise BadInput(f"{where}: calling {called}() is not allowed in a pipeline "
                           f"template: use a filter, or one of the methods "
                           f"{', '.join(sorted(METHODS))}")


class _Budget:
    def __init__(self, where: str) -> None:
        self.where, self.deadline = where, time.monotonic() + MAX_SECONDS


_BUDGET: ContextVar[_Budget | None] = ContextVar("ml_ship_template_budget", default=None)


@contextlib.contextmanager
def budget(where: str) -> Iterator[None]:
    """Evaluations inside share one deadline; going over it is a ``BadInput`` at ``where``."""
    token = _BUDGET.set(_Budget(where))
    try:
        yield
    finally:
        _BUDGET.reset(token)


def _step() -> None:
    b = _BUDGET.get()
    if b is not None and time.monotonic() > b.deadline:
        raise Unbounded(f"{b.where}: the template took over {MAX_SECONDS:g} s to evaluate")


def _too_big(what: str) -> Unbounded:
    b = _BUDGET.get()
    return Unbounded(f"{b.where if b else 'template'}: {what}")


def _length(value: Any) -> int | None:
    return len(value) if isinstance(value, (str, bytes, list, tuple, dict)) else None


def check_size(value: Any) -> Any:
    """``value``, unless it is an integer or a string/list/mapping over the bounds."""
    if isinstance(value, int) and not isinstance(value, bool) \
            and value.bit_length() > MAX_INT_BITS:
        raise _too_big(f"a number over {MAX_INT_BITS:,} bits")
    n = _length(value)
    if n is not None and n > MAX_LENGTH:
        raise _too_big(f"a value of {n:,} characters or items (at most {MAX_LENGTH:,})")
    return value


def _check_binop(op: str, a: Any, b: Any) -> None:
    """Refuse, before it runs, an operation whose result would be over the bounds."""
    ints = all(isinstance(x, int) for x in (a, b))
    if op == "**" and ints and b > 0 and abs(a) > 1 and (abs(a).bit_length() - 1) * b \
            > MAX_INT_BITS:
        raise _too_big(f"{a} ** {b} is over {MAX_INT_BITS:,} bits")
    if op == "*":
        if ints and a.bit_length() + b.bit_length() > MAX_INT_BITS + 1:
            raise _too_big(f"a product over {MAX_INT_BITS:,} bits")
        for seq, times in ((a, b), (b, a)):
            n = _length(seq)
            if n is not None and isinstance(times, int) and n * times > MAX_LENGTH:
                raise _too_big(f"repeating {n:,} characters or items {times:,} times is over "
                               f"{MAX_LENGTH:,}")
    if op == "+":
        na, nb = _length(a), _length(b)
        if na is not None and nb is not None and na + nb > MAX_LENGTH:
            raise _too_big(f"joining {na:,} and {nb:,} characters or items is over "
                           f"{MAX_LENGTH:,}")
    if op == "%" and isinstance(a, str):
        for width, precision in _PRINTF.findall(a):
            if "*" in (width, precision) or max(int(width or 0), int(precision or 0)) \
                    > MAX_LENGTH:
                raise _too_big("a % format with a width or precision over "
                               f"{MAX_LENGTH:,} (or given by *)")


def _join_size(items: list[Any], sep: str) -> int:
    return sum(len(str(x)) for x in items) + len(sep) * max(len(items) - 1, 0)


def _check_replace(s: Any, old: Any, new: Any) -> None:
    if isinstance(s, str) and isinstance(old, str) and isinstance(new, str):
        grows = s.count(old) * max(len(new) - len(old), 0) if old else (len(s) + 1) * len(new)
        if len(s) + grows > MAX_LENGTH:
            raise _too_big(f"replace() would make over {MAX_LENGTH:,} characters")


def _bounded_filter(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` with the budget's deadline, its result's size checked, and ``join``/``replace``
    checked before they run."""
    special = 1 if getattr(fn, "jinja_pass_arg", None) is not None else 0  # context first

    @functools.wraps(fn)  # keeps jinja's pass_context/pass_environment marks
    def run(*args: Any, **kwargs: Any) -> Any:
        _step()
        head, rest = args[:special], list(args[special:])
        if name == "replace" and rest:
            old = rest[1] if len(rest) > 1 else kwargs.get("old", "")
            new = rest[2] if len(rest) > 2 else kwargs.get("new", "")
            _check_replace(str(rest[0]), old, new)
        if name == "join" and rest:
            rest[0] = items = list(rest[0])  # a generator (| map) is read once, here
            sep = rest[1] if len(rest) > 1 else kwargs.get("d", "")
            if _join_size(items, str(sep)) > MAX_LENGTH:
                raise _too_big(f"join would make over {MAX_LENGTH:,} characters")
        return check_size(fn(*head, *rest, **kwargs))

    return run


def check_result(value: Any) -> None:
    """A whole template's value is no bigger as JSON than ``MAX_LENGTH`` (a list of the same
    long string a thousand times is small in memory, not once written out)."""
    size, todo = 0, [value]
    while todo:
        item = todo.pop()
        if isinstance(item, dict):
            todo.extend(item.keys())
            todo.extend(item.values())
        elif isinstance(item, (list, tuple)):
            todo.extend(item)
        size += len(item) + 2 if isinstance(item, str) else \
            (item.bit_length() // 3 + 2 if isinstance(item, int) else 8)
        if size > MAX_LENGTH:
            raise _too_big(f"its value is over {MAX_LENGTH:,} characters as JSON")


def joined(pieces: Iterator[str]) -> str:
    """What a template renders to, piece by piece, refused once over ``MAX_LENGTH``."""
    out: list[str] = []
    size = 0
    for piece in pieces:
        size += len(piece)
        if size > MAX_LENGTH:
            raise _too_big(f"it renders to over {MAX_LENGTH:,} characters")
        out.append(piece)
    return "".join(out)


class BoundedEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox with arithmetic, calls and filters checked against the bounds above."""

    intercepted_binops = frozenset({"+", "-", "*", "/", "//", "%", "**"})

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.globals.clear()  # no range(), lipsum(), namespace()…
        self.filters = {n: _bounded_filter(n, DEFAULT_FILTERS[n]) for n in FILTERS}

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        _step()
        _check_binop(operator, left, right)
        try:
            return check_size(super().call_binop(context, operator, left, right))
        except OverflowError:
            raise _too_big(f"{operator}: the result is too large") from None

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        _step()
        owner = getattr(__obj, "__self__", None)
        name = getattr(__obj, "__name__", "")
        if not isinstance(owner, (str, list, tuple, dict)) or name not in METHODS:
            raise _too_big(f"calling {name or type(__obj).__name__}() is not allowed")
        if name == "replace" and len(args) >= 2:
            _check_replace(owner, args[0], args[1])
        if name == "join" and args and isinstance(owner, str):
            items = list(args[0])
            if _join_size(items, owner) > MAX_LENGTH:
                raise _too_big(f"join would make over {MAX_LENGTH:,} characters")
            args = (items, *args[1:])
        return check_size(super().call(__context, __obj, *args, **kwargs))
