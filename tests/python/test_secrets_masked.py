"""A run's secrets never appear in clear where its text is kept or shown: the log file, the log
over REST and in ``ml-ship logs``, the output notebook and the error recorded on the run. The
value and its simple encodings read ``***`` there, like CI systems do."""

from __future__ import annotations

import base64
import html
import json
import os
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest

from jupyter_ml_ship.runner._mask import MIN_SECRET_LENGTH, Masker, StreamMasker

from .conftest import make_notebook
from .test_server import (  # noqa: F401 - fixtures
    Api,
    api,
    authorizer_class,
    jp_server_config,
    js,
    ml_home,
    wait_run,
)

#: its base64 has '+', '/' and padding (URL-safe: '-', '_'); its two URL encodings differ
SECRET = "s3cr3t>>Tok?en~ w"


def forms(value: str) -> dict[str, str]:
    raw = value.encode()
    return {
        "plain": value,
        "base64": base64.b64encode(raw).decode(),
        "base64 unpadded": base64.b64encode(raw).decode().rstrip("="),
        "base64 url-safe": base64.urlsafe_b64encode(raw).decode(),
        "base64 url-safe unpadded": base64.urlsafe_b64encode(raw).decode().rstrip("="),
        "url-encoded": urllib.parse.quote(value, safe=""),
        "url-encoded (form)": urllib.parse.quote_plus(value),
        "hex": raw.hex(),
        "HTML-escaped": html.escape(value),
    }


def leaks(text: str) -> list[str]:
    return [name for name, form in forms(SECRET).items() if form in text]


def test_the_secret_has_distinct_encodings() -> None:
    f = forms(SECRET)
    assert len(set(f.values())) == len(f)
    assert "+" in f["base64"] and "-" in f["base64 url-safe"]


# ---- the masker ---------------------------------------------------------------------------


def test_every_form_is_masked_and_short_values_are_not() -> None:
    m = Masker([SECRET, "ab", ""])
    text = " | ".join(forms(SECRET).values()) + " | ab cab"
    masked = m.text(text)
    assert leaks(masked) == []
    assert masked.count("***") == len(forms(SECRET))
    assert masked.endswith("| ab cab")  # shorter than MIN_SECRET_LENGTH: left alone
    assert MIN_SECRET_LENGTH == 4
    assert Masker(["line-one\nline-two"]).text("x line-two y") == "x *** y"


def test_a_secret_split_across_chunks_is_masked() -> None:
    m = Masker([SECRET])
    data = f"start {SECRET} middle {forms(SECRET)['base64']} and a prompt {SECRET}".encode()
    stream = StreamMasker(m)
    out = b""
    for i in range(len(data)):  # one byte at a time, letting partial lines out in between
        out += stream.feed(data[i:i + 1])
        out += stream.flush()
    out += stream.close()
    assert out == b"start *** middle *** and a prompt ***"
    assert StreamMasker(Masker([])).feed(b"no secrets") == b"no secrets"


def test_the_masker_of_notebook_outputs_leaves_images_alone() -> None:
    png = base64.b64encode(SECRET.encode() * 3).decode()  # image data that holds the form
    nb = {"cells": [{"outputs": [
        {"output_type": "stream", "text": [f"a {SECRET}\n"]},
        {"output_type": "display_data", "data": {"text/html": f"<b>{SECRET}</b>",
                                                 "image/png": png}},
        {"output_type": "error", "ename": "E", "evalue": SECRET, "traceback": [SECRET]}]}]}
    masked = Masker([SECRET]).notebook(nb)["cells"][0]["outputs"]
    assert masked[0]["text"] == ["a ***\n"] and masked[1]["data"]["text/html"] == "<b>***</b>"
    assert masked[1]["data"]["image/png"] == png
    assert masked[2]["evalue"] == "***" and masked[2]["traceback"] == ["***"]


# ---- a real run, read back every way ----------------------------------------------------------

PRINTS = """import base64, html, os, sys, urllib.parse
from IPython.display import HTML, display
s = os.environ["ML_SHIP_TEST_API_TOKEN"]
print("plain:", s)
print("base64:", base64.b64encode(s.encode()).decode())
print("base64 url-safe:", base64.urlsafe_b64encode(s.encode()).decode().rstrip("="))
print("url-encoded:", urllib.parse.quote(s, safe=""))
print("hex:", s.encode().hex())
os.system('echo "from a shell: $ML_SHIP_TEST_API_TOKEN"')
sys.stdout.write("split: " + s[:5]); sys.stdout.flush(); sys.stdout.write(s[5:] + "\\n")
sys.stdout.flush()
display(HTML(f"<b>{s}</b>"))
display(HTML(f"<i>{html.escape(s)}</i>"))
s"""


async def test_a_runs_secret_is_masked_in_log_output_and_error(
        api: Api, jp_root_dir: Path, ml_home: Path,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ML_SHIP_TEST_API_TOKEN", SECRET)  # the server's environment
    make_notebook(jp_root_dir / "leaky.ipynb", PRINTS, "raise RuntimeError('token ' + s)",
                  metadata={"ml_ship": {"secrets": ["ML_SHIP_TEST_API_TOKEN"]}})
    shipped = js(await api("POST", "ship", body={"path": "leaky.ipynb", "run": True},
                           expect=201))
    run = await wait_run(api, shipped["run"]["id"])
    assert run["status"] == "failed", run

    log_file = (ml_home / "runs" / run["id"] / "log.txt").read_text()
    rest_log = (await api("GET", "runs", run["id"], "logs")).body.decode()
    env = {**os.environ, "ML_SHIP_HOME": str(ml_home)}
    env.pop("ML_SHIP_DB_URL", None)
    env.pop("ML_SHIP_TEST_API_TOKEN", None)  # a reader need not know the secret
    cli_log = subprocess.run([sys.executable, "-m", "jupyter_ml_ship", "logs", run["id"]],
                             env=env, capture_output=True, text=True, check=True).stdout
    output = (await api("GET", "runs", run["id"], "output")).body.decode()
    output_file = (ml_home / "runs" / run["id"] / "output.ipynb").read_text()
    html = (await api("GET", "runs", run["id"], "output", params={"format": "html"})).body
    error = json.dumps(run["error"])

    for where, text in [("log file", log_file), ("GET logs", rest_log), ("ml-ship logs", cli_log),
                        ("GET output", output), ("output file", output_file),
                        ("output as HTML", html.decode()), ("run error", error)]:
        assert leaks(text) == [], f"{where} shows the secret: {text[:3000]}"
        assert "***" in text, where
    for label in ("plain", "base64", "base64 url-safe", "url-encoded", "hex", "split",
                  "from a shell"):
        assert f"{label}: ***" in log_file, label
    assert "token ***" in run["error"]["message"]
