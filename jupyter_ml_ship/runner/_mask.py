"""Masking a run's secrets in every text it leaves behind, the way CI systems do (``***``).

A run is given secrets by name (``metadata.ml_ship.secrets``); their values reach it through its
environment. Wherever a run's text is stored (the streamed log, the output notebook, the error
recorded on the run and what notifications quote from it), each value is replaced by ``***``,
and so are its simple encodings: base64 (standard and URL-safe, with and without padding), URL
encoding (``quote`` and ``quote_plus``), hex (lower and upper case) and HTML escaping (a value
shown in an HTML output). A multi-line value is also masked line by line.

Values shorter than ``MIN_SECRET_LENGTH`` characters are not masked: masking "1" or "ab" would
hide every occurrence of common text and tell a reader the secret. CI systems skip them too.
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
import urllib.parse
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

MIN_SECRET_LENGTH = 4
MASK = "***"
#: environment variable naming the run's secrets (comma-separated), for a runner that no
#: service prepared (an Airflow task); a service's runner finds them in run.json
SECRET_NAMES_ENV = "ML_SHIP_SECRET_NAMES"
#: mimetypes whose data is binary (base64): never masked, it is not text
_BINARY_PREFIX = "image/"


def _forms(value: str) -> set[str]:
    raw = value.encode("utf-8")
    forms = {value, urllib.parse.quote(value, safe=""), urllib.parse.quote_plus(value),
             raw.hex(), raw.hex().upper(), html.escape(value), html.escape(value, quote=False)}
    for encoded in (base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()):
        forms |= {encoded, encoded.rstrip("=")}
    return {f for f in forms if len(f) >= MIN_SECRET_LENGTH}


class Masker:
    """Replaces the given secret values (and their encodings) with ``***``."""

    def __init__(self, values: Iterable[str]):
        plain: set[str] = set()
        for value in values:
            if not value:
                continue
            plain.add(value)
            plain |= {line.strip("\r") for line in value.splitlines()}
        forms: set[str] = set()
        for value in plain:
            if len(value) >= MIN_SECRET_LENGTH:
                forms |= _forms(value)
        ordered = sorted(forms, key=len, reverse=True)  # the longest form wins
        self.forms = [f.encode("utf-8") for f in ordered]
        self._text = re.compile("|".join(map(re.escape, ordered))) if ordered else None
        self._bytes = re.compile(b"|".join(map(re.escape, self.forms))) if ordered else None
        #: every proper prefix of a form: what a stream must hold back at a chunk's end
        self.prefixes = {f[:i] for f in self.forms for i in range(1, len(f))}
        self.longest = max((len(f) for f in self.forms), default=0)

    def __bool__(self) -> bool:
        return self._text is not None

    def text(self, text: str) -> str:
        return self._text.sub(MASK, text) if self._text is not None else text

    def mask_bytes(self, data: bytes) -> bytes:
        return self._bytes.sub(MASK.encode(), data) if self._bytes is not None else data

    def matches(self, data: bytes) -> Iterable[re.Match[bytes]]:
        return self._bytes.finditer(data) if self._bytes is not None else ()

    def value(self, value: Any) -> Any:
        """Strings anywhere in a JSON-like value masked (keys too)."""
        if not self:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, dict):
            return {self.text(k) if isinstance(k, str) else k: self.value(v)
                    for k, v in value.items()}
        return value

    def notebook(self, nb: dict[str, Any]) -> dict[str, Any]:
        """The notebook's outputs masked in place: streams, errors (name, value, traceback),
        and every textual mimetype of display data and results (images are left alone)."""
        if not self:
            return nb
        for cell in nb.get("cells") or []:
            for out in cell.get("outputs") or []:
                kind = out.get("output_type")
                if kind == "stream":
                    out["text"] = self.value(out.get("text", ""))
                elif kind == "error":
                    for key in ("ename", "evalue", "traceback"):
                        if key in out:
                            out[key] = self.value(out[key])
                data = out.get("data")
                if isinstance(data, dict):
                    for mime in list(data):
                        if not mime.startswith(_BINARY_PREFIX) or mime == "image/svg+xml":
                            data[mime] = self.value(data[mime])
        return nb

    def notebook_text(self, text: str) -> str:
        """A notebook's JSON text with its outputs masked (as papermill writes it)."""
        if not self:
            return text
        nb = self.notebook(json.loads(text))
        return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def secret_names(spec: Mapping[str, Any] | None, environ: Mapping[str, str]) -> list[str]:
    """The run's secret names: run.json's ``secret_names`` and ``ML_SHIP_SECRET_NAMES``."""
    names = list((spec or {}).get("secret_names") or [])
    names += [n.strip() for n in environ.get(SECRET_NAMES_ENV, "").split(",") if n.strip()]
    return sorted(set(names))


def masker_for(spec: Mapping[str, Any] | None,
               environ: Mapping[str, str] | None = None) -> Masker:
    """The masker of a run: the values its secrets have in ``environ`` (default: this
    process's environment, which is where a run is given them)."""
    environ = os.environ if environ is None else environ
    return Masker(environ[n] for n in secret_names(spec, environ) if environ.get(n))


def masker_of_run_dir(run_dir: str | Path,
                      environ: Mapping[str, str] | None = None) -> Masker:
    try:
        spec = json.loads((Path(run_dir) / "run.json").read_text())
    except (OSError, ValueError):
        spec = None
    return masker_for(spec if isinstance(spec, dict) else None, environ)


class StreamMasker:
    """Masks a byte stream that arrives in chunks: a secret split across two chunks is still
    masked, because text is let out only up to a line end, or up to where what follows could
    not be the start of a secret."""

    #: a partial line longer than this is let out (minus a possible secret's start)
    MAX_HOLD = 64 * 1024

    def __init__(self, masker: Masker):
        self.masker = masker
        self.held = b""

    def feed(self, data: bytes) -> bytes:
        buf = self.held + data
        if not self.masker:
            self.held = b""
            return buf
        cut = max(buf.rfind(b"\n"), buf.rfind(b"\r")) + 1
        out, self.held = self.masker.mask_bytes(buf[:cut]), buf[cut:]
        if len(self.held) > self.MAX_HOLD:
            out += self._release()
        return out

    def flush(self) -> bytes:
        """What can be let out now of a partial line (a prompt with no newline yet), masked."""
        return self._release()

    def close(self) -> bytes:
        rest, self.held = self.held, b""
        return self.masker.mask_bytes(rest)

    def _release(self) -> bytes:
        """The held bytes, masked, except the longest tail that may begin a secret (kept):
        a tail that is a whole form but also the start of a longer one (base64 without its
        padding yet) waits too."""
        buf = self.held
        cut = len(buf)
        for k in range(min(len(buf), self.masker.longest - 1), 0, -1):
            if buf[-k:] in self.masker.prefixes:
                cut = len(buf) - k
                break
        for match in self.masker.matches(buf):  # never cut through a whole form
            if match.start() < cut < match.end():
                cut = match.end()
        out, self.held = buf[:cut], buf[cut:]
        return self.masker.mask_bytes(out)
