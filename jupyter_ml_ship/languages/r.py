"""R (IRkernel): its parameters cell read, its parameters injected, ``record()`` in its kernel.

papermill injects R parameters with its ``RTranslator`` but cannot read an R ``parameters`` cell
(``Translator.inspect`` is Python's only). ``translator()`` is that translator with an
``inspect``: a small reader of the literal assignments an R parameters cell holds (``x <- 1``,
``name = "a"``, ``flag <- TRUE``, ``v <- c(1, 2)``, ``list(a = 1)``, ``NULL``), typed with
Python's type names (``1`` and ``1.5`` are floats: R's numbers are doubles; ``1L`` is an int,
``c(…)`` a list) and the default given as the Python literal of the same value, so the Ship
dialog and run validation treat both languages alike. A value that is not a literal (``Sys.Date()``) keeps its R text and no type: any value
is accepted, as for a Python expression. A list of scalars is injected as ``c(…)`` (an R
vector, what ``v <- c(1, 2)`` was), not as papermill's ``list(…)``.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any, NamedTuple

from ..outputs import OUTPUT_MIMETYPE


class Parameter(NamedTuple):
    """papermill's ``models.Parameter`` (the same fields; papermill is imported only when a
    translator is needed: the runner reports a runtime without it as a failed run)."""

    name: str
    inferred_type_name: str
    default: str
    help: str

#: the R code that defines ``record(name, value)`` in the kernel before the first cell: the
#: value as exact JSON (jsonlite, full precision) in a display output of Python's mimetype
RECORD = (
    "# ml-ship: record(name, value) hands a value to the run, the lab and later steps\n"
    "record <- function(name, value) {\n"
    "  if (!is.character(name) || length(name) != 1L || is.na(name) ||\n"
    "      !grepl(\"^[A-Za-z_][A-Za-z0-9_.-]{0,127}$\", name))\n"
    "    stop(\"record(): output name \", deparse(name), \" is not allowed; use letters, \",\n"
    "         \"digits, '_', '.', '-'\", call. = FALSE)\n"
    "  json <- tryCatch(\n"
    "    jsonlite::toJSON(value, auto_unbox = TRUE, digits = NA, null = \"null\", na = \"null\"),\n"
    "    error = function(e) stop(\"record(\", deparse(name), \", ...): the value must be \",\n"
    "                             \"JSON-serializable: \", conditionMessage(e), call. = FALSE))\n"
    "  payload <- paste0('{\"name\":', jsonlite::toJSON(name, auto_unbox = TRUE),\n"
    "                    ',\"value\":', json, '}')\n"
    "  IRdisplay::publish_mimebundle(setNames(list(payload, paste(name, \"=\", json)),\n"
    f"                                         c(\"{OUTPUT_MIMETYPE}\", \"text/plain\")))\n"
    "  invisible(NULL)\n"
    "}\n"
)

_TOKEN = re.compile(r"""
    (?P<ws>[ \t\r\f]+)
  | (?P<comment>\#[^\n]*)
  | (?P<newline>\n|;)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?L?)
  | (?P<name>`[^`]+`|[A-Za-z.][A-Za-z0-9._]*)
  | (?P<op><<-|<-|->|==|[=(),+\-\[\]{}:*/^!<>$@~?&|])
""", re.VERBOSE)

_CONSTANTS: dict[str, Any] = {"TRUE": True, "T": True, "FALSE": False, "F": False, "NULL": None,
                              "NA": None, "NA_integer_": None, "NA_real_": None,
                              "NA_character_": None}
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "\\": "\\", '"': '"', "'": "'"}


class NotLiteral(ValueError):
    """An R expression that is not a literal value: its type is only known at run time."""


def _tokens(code: str) -> list[tuple[str, str]]:
    found, pos = [], 0
    while pos < len(code):
        m = _TOKEN.match(code, pos)
        if m is None:  # a character R allows that the reader does not know: opaque text
            found.append(("op", code[pos]))
            pos += 1
            continue
        pos = m.end()
        if m.lastgroup != "ws":
            found.append((m.lastgroup or "", m.group()))
    return found


def _statements(tokens: list[tuple[str, str]]) -> list[tuple[list[tuple[str, str]], str]]:
    """Top-level statements, each with the comment on its last line (its help)."""
    found: list[tuple[list[tuple[str, str]], str]] = []
    current: list[tuple[str, str]] = []
    depth, help_text = 0, ""
    for kind, text in tokens + [("newline", "\n")]:
        if kind == "comment":
            if current:
                help_text = text.lstrip("#").strip()
            continue
        if kind == "newline" and depth == 0:
            if current and current[-1][1] not in ("<-", "=", "<<-", ",", "+", "-"):
                found.append((current, help_text))
                current, help_text = [], ""
            continue
        if kind == "newline":
            continue
        if text in ("(", "[", "{"):
            depth += 1
        elif text in (")", "]", "}"):
            depth = max(0, depth - 1)
        current.append((kind, text))
    return found


def _string(text: str) -> str:
    body, out, i = text[1:-1], [], 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            out.append(_ESCAPES.get(body[i + 1], body[i + 1]))
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


class _Reader:
    """A literal R value from tokens: numbers, strings, TRUE/FALSE, NULL, c(…), list(…)."""

    def __init__(self, tokens: list[tuple[str, str]]):
        self.tokens, self.pos = tokens, 0

    def peek(self, ahead: int = 0) -> tuple[str, str]:
        i = self.pos + ahead
        return self.tokens[i] if i < len(self.tokens) else ("end", "")

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        self.pos += 1
        return tok

    def whole(self) -> Any:
        value = self.value()
        if self.pos != len(self.tokens):
            raise NotLiteral("trailing text")
        return value

    def value(self) -> Any:
        kind, text = self.take()
        if text in ("-", "+") and self.peek()[0] == "number":
            number = self.value()
            return -number if text == "-" else number
        if kind == "number":
            if text.endswith("L"):
                return int(float(text[:-1]))
            # R's numbers are doubles: typed float (an int is a valid value), written as typed
            return _Number(text) if not any(c in text for c in ".eE") else float(text)
        if kind == "string":
            return _string(text)
        if kind == "name" and text in _CONSTANTS and self.peek()[1] != "(":
            return _CONSTANTS[text]
        if kind == "name" and text in ("c", "list") and self.peek()[1] == "(":
            self.take()
            return self.call(flatten=text == "c")
        raise NotLiteral(text)

    def call(self, flatten: bool) -> Any:
        items: list[tuple[str | None, Any]] = []
        while self.peek()[1] != ")":
            key = None
            if self.peek()[0] in ("name", "string") and self.peek(1)[1] == "=":
                raw = self.take()[1]
                key = _string(raw) if raw[0] in "\"'`" else raw
                self.take()
            value = self.value()
            if flatten and isinstance(value, list):
                items.extend((None, v) for v in value)
            elif not (flatten and value is None):  # c(1, NULL) is c(1)
                items.append((key, value))
            if self.peek()[1] == ",":
                self.take()
            elif self.peek()[1] != ")":
                raise NotLiteral(self.peek()[1])
        self.take()
        if items and all(k is not None for k, _ in items):
            return {k: v for k, v in items}
        if any(k is not None for k, _ in items):
            raise NotLiteral("some elements named, some not")
        return [v for _, v in items]


class _Number(int):
    """An R number written without a decimal point (``50``): a double in R, so typed
    ``float``, its default kept as written (``50``)."""

    def __neg__(self) -> _Number:
        return _Number(-int(self))


def _type_name(value: Any) -> str:
    if isinstance(value, _Number):
        return "float"
    return "None" if value is None else type(value).__name__


def _plain(value: Any) -> Any:
    """``value`` with every ``_Number`` a plain int again (for its Python literal)."""
    if isinstance(value, _Number):
        return int(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def read_parameters(code: str) -> list[Parameter]:
    """The assignments of an R parameters cell, in order (a name assigned twice: the last)."""
    found: dict[str, Parameter] = {}
    for statement, help_text in _statements(_tokens(code)):
        if len(statement) < 3 or statement[0][0] != "name" or \
                statement[1][1] not in ("<-", "=", "<<-"):
            continue
        name = statement[0][1].strip("`")
        rest = statement[2:]
        try:
            value = _Reader(rest).whole()
        except NotLiteral:
            text = " ".join(t for _, t in rest)
            text = re.sub(r"\s*([(),\[\]])\s*", r"\1", text).replace(",", ", ")
            found.pop(name, None)
            found[name] = Parameter(name, "None", text, help_text)
            continue
        found.pop(name, None)
        found[name] = Parameter(name, _type_name(value), repr(_plain(value)), help_text)
    return list(found.values())


def record_names(code: str) -> tuple[set[str], bool]:
    """Constant names passed to ``record(…)`` in R code; True if some are computed."""
    names, dynamic = set(), False
    tokens = _tokens(code)
    for i, (kind, text) in enumerate(tokens):
        if kind == "name" and text == "record" and i + 1 < len(tokens) and tokens[i + 1][1] == "(":
            before = tokens[i - 1][1] if i else ""
            if before in ("<-", "=", "$", "::", ":"):  # defining it, or another package's
                continue
            arg = tokens[i + 2] if i + 2 < len(tokens) else ("end", "")
            if arg[0] == "string" and i + 3 < len(tokens) and tokens[i + 3][1] in (",", ")"):
                names.add(_string(arg[1]))
            else:
                dynamic = True
    return names, dynamic


def _scalar(value: Any) -> bool:
    return isinstance(value, (bool, int, float, str))


@cache
def translator() -> type:
    """``RParameters``: papermill's R translator that also reads a parameters cell; a list of
    scalars of one kind is an R vector ``c(…)``."""
    from papermill.translators import RTranslator

    class RParameters(RTranslator):  # type: ignore[misc]
        @classmethod
        def translate_list(cls, val: Any) -> str:
            kinds = {bool if isinstance(v, bool) else str if isinstance(v, str) else float
                     for v in val if _scalar(v)}
            if val and all(_scalar(v) for v in val) and len(kinds) == 1:
                return f"c({', '.join(cls.translate(v) for v in val)})"
            return str(super().translate_list(val))

        @classmethod
        def inspect(cls, parameters_cell: Any) -> list[Parameter]:
            source = parameters_cell.get("source") or ""
            return read_parameters("".join(source) if isinstance(source, list) else source)

    return RParameters
