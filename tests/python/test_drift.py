"""Data you can watch: ``record_data`` and the ``drift`` check (real Evidently, real kernels)."""

from __future__ import annotations

import importlib.util
import json
import sys

import pytest

from tests.python.conftest import require

pd = pytest.importorskip("pandas")
np = pytest.importorskip("numpy")


def need_evidently() -> None:
    require("monitoring", importlib.util.find_spec("evidently") is not None
            and importlib.util.find_spec("pyarrow") is not None,
            "pip install jupyter_ml_ship[monitoring]")


def frame(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    """Two numbers, a category, a small integer; ``shift`` moves column ``b`` only."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "a": rng.normal(0, 1, n),
        "b": rng.normal(shift, 1, n),
        "city": rng.choice(["paris", "lyon", "nice"], n, p=[0.5, 0.3, 0.2]),
        "plan": rng.integers(0, 3, n),
    })


# ---- the comparison itself -------------------------------------------------------------------


@pytest.fixture(scope="module")
def shifted(tmp_path_factory):
    """One comparison with its report (Evidently's import and run paid once per module):
    2,000 rows (over 1,000: distances, not p-values), column ``b`` shifted by one sigma."""
    need_evidently()
    from jupyter_ml_ship.core.checks.drift import compare

    report = tmp_path_factory.mktemp("drift") / "drift.html"
    return compare(frame(2000, 1), frame(2000, 2, shift=1.0), report, max_share=0.2), report


def test_evidently_flags_the_shifted_column_only(shifted):
    got, report = shifted
    assert [c.column for c in got.drifted] == ["b"]
    assert {c.column for c in got.columns} == {"a", "b", "city", "plan"}
    assert all(c.score is not None and c.method for c in got.columns)
    assert got.share == 0.25
    assert got.report == report
    html = report.read_text(encoding="utf-8")
    assert all(f"Drift for column {c}" in html for c in ("a", "b", "city", "plan"))


def test_edge_cases_are_named_never_a_crash():
    need_evidently()
    from jupyter_ml_ship.core.checks.drift import compare

    ref = frame(1500, 1).assign(empty=np.nan, gone=1.0)  # > 1000 rows: distances, not p-values
    one_row = compare(ref, frame(1, 2))
    assert one_row.problem == "the current data has 1 row: too few to compare (at least 2)"
    cur = frame(1500, 2).assign(empty=np.nan, new="x")
    cur["a"] = np.nan
    got = compare(ref, cur)
    notes = {c.column: c.note for c in got.columns if c.note}
    assert notes == {"a": "all missing now", "gone": "vanished"}
    assert got.skipped == {"empty": "all missing in both", "new": "new column"}
    assert sorted(c.column for c in got.drifted) == ["a", "gone"]
    nothing = compare(ref[["empty"]], cur[["empty"]])
    assert nothing.problem == "no column to compare (empty: all missing in both)"


def test_drift_reference_is_checked_when_shipping():
    from jupyter_ml_ship.core.checks import parse_checks
    from jupyter_ml_ship.errors import BadInput

    ok = parse_checks({"features": {"drift": {"max_share": 0.3, "reference": "previous"}}}, "c")
    assert ok["features"].rule_value("drift") == {"max_share": 0.3, "reference": "previous"}
    with pytest.raises(BadInput, match=r"c\.features\.drift\.reference: .*previous, "
                                       r"reference_run or a run id"):
        parse_checks({"features": {"drift": {"reference": "yesterday"}}}, "c")


def test_without_evidently_the_check_says_what_to_install(monkeypatch, tmp_path):
    from jupyter_ml_ship.core.checks.drift import check_drift
    from jupyter_ml_ship.core.checks.registry import RuleContext
    from jupyter_ml_ship.core.checks.spec import parse_checks

    monkeypatch.setitem(sys.modules, "evidently", None)  # as in an install without the extra
    spec = parse_checks({"features": {"drift": {"max_share": 0.3}}}, "checks")["features"]
    ctx = RuleContext(run_id="r1", job="j", job_id=1, version=1, version_id=1,
                      reference_run_id=None, outputs={"features": {"kind": "data"}},
                      run_dir=tmp_path, home=tmp_path, store=None, session=None)  # type: ignore[arg-type]
    (result,) = check_drift(ctx, "features", spec).checks
    assert result.passed and "install jupyter_ml_ship[monitoring]" in result.message


# ---- record_data in a kernel's place ---------------------------------------------------------


def test_record_data_keeps_a_capped_sample_and_a_profile(monkeypatch, tmp_path, capsys):
    pytest.importorskip("pyarrow")
    from jupyter_ml_ship import outputs

    monkeypatch.setenv(outputs.ARTIFACTS_ENV, str(tmp_path / "art"))
    monkeypatch.setattr(outputs, "MAX_SAMPLE_ROWS", 100)
    data = frame(250, 3).assign(mixed=[1, "two"] * 125, empty=np.nan)
    data.to_csv(tmp_path / "in.csv", index=False)
    outputs.record_data("features", tmp_path / "in.csv")
    shown = capsys.readouterr().out
    assert "features: data set of 250 rows x 6 columns, a sample of 100 kept as " \
           "ml-ship-data/features.parquet" in shown
    sample = pd.read_parquet(tmp_path / "art" / "ml-ship-data" / "features.parquet")
    assert sample.shape == (100, 6)
    value = outputs.profile(data)
    assert value["city"]["top"]["paris"] > value["city"]["top"]["nice"]
    assert value["empty"] == {"type": "float64", "missing": 1.0, "mean": None, "std": None,
                              "q05": None, "q25": None, "q50": None, "q75": None, "q95": None}
    assert -0.5 < value["a"]["mean"] < 0.5 and value["a"]["q05"] < value["a"]["q95"]
    with pytest.raises(ValueError, match=r"'.*in\.json' is neither CSV"):
        (tmp_path / "in.json").write_text("{}")
        outputs.record_data("features", tmp_path / "in.json")
    with pytest.raises(TypeError, match="expected a pandas DataFrame"):
        outputs.record_data("features", [1, 2])
    with pytest.raises(ValueError, match="column name\\(s\\) '1' appear more than once"):
        outputs.record_data("features", pd.DataFrame([[1, 2]], columns=[1, "1"]))
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # an image without it
    with pytest.raises(ImportError, match="needs pyarrow: add it to the job's requirements"):
        outputs.record_data("features", data)


# ---- end to end: two runs on the local backend -------------------------------------------------


def test_a_shifted_run_is_degraded_naming_the_column(svc, nb):
    need_evidently()
    path = nb("watch.ipynb",
              "import numpy as np, pandas as pd\n"
              "from jupyter_ml_ship import record_data\n"
              "rng = np.random.default_rng(seed)\n"
              "n = 400\n"
              "df = pd.DataFrame({'a': rng.normal(0, 1, n), 'b': rng.normal(shift, 1, n),\n"
              "                   'city': rng.choice(['paris', 'lyon'], n)})\n"
              "record_data('features', df)",
              params="seed = 1\nshift = 0.0")
    nbj = json.loads(path.read_text())
    nbj["metadata"]["ml_ship"] = {"checks": {"features": {"drift": {"max_share": 0.2,
                                                                    "reference": "previous"}}}}
    path.write_text(json.dumps(nbj))
    svc.ship(path)
    first = svc.wait(svc.run("watch").id, 120)
    assert first.status == "succeeded", first.error
    assert first.health == "healthy"
    assert "no reference yet" in first.checks[0].message
    assert first.outputs["features"]["rows"] == 400
    assert first.outputs["features"]["sample"] == "ml-ship-data/features.parquet"

    second = svc.wait(svc.run("watch", parameters={"seed": 2, "shift": 3.0}).id, 120)
    assert second.status == "succeeded", second.error
    assert second.health == "degraded"
    (check,) = second.checks
    assert not check.passed and check.rule == "drift" and check.value == pytest.approx(1 / 3)
    assert f"1 of 3 columns drifted (33% > max_share 20%) against previous run {first.id}: b (" \
        in check.message
    assert "report drift-features.html" in check.message
    assert second.outputs["features.drift.b"] < 0.05  # K-S p-value of a 3-sigma shift
    assert {"features.drift.a", "features.drift.city"} <= set(second.outputs)
    assert second.outputs["features.drift_share"] == pytest.approx(1 / 3)
    kept = {f.path for f in svc.run_files(second.id).files}
    assert {"drift-features.html", "ml-ship-data/features.parquet"} <= kept
    report, kind = svc.run_file(second.id, "drift-features.html")
    assert kind.startswith("text/html") and report.stat().st_size > 10_000


# ---- the report as the lab opens it ------------------------------------------------------------


def test_the_report_renders_sandboxed_in_a_real_browser(shifted):
    """Served with the artifact CSP of HTML files, Evidently's report draws (its inline scripts
    run) in an opaque origin that can fetch nothing."""
    import http.server
    import os
    import threading

    from jupyter_ml_ship.server._files import ARTIFACT_HTML_CSP
    from tests.ui.conftest import CHROMIUM, CHROMIUM_ARGS

    require("browser", os.path.exists(CHROMIUM), f"{CHROMIUM} not found (scripts/browser-up.sh)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        require("browser", False, f"python playwright missing: {exc}")
    page_bytes = shifted[1].read_bytes()

    class Artifact(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = page_bytes if self.path == "/r.html" else b"secret"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Security-Policy", ARTIFACT_HTML_CSP)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Artifact)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{server.server_address[1]}/r.html")
            page.get_by_text("Share of Drifted Columns").wait_for(timeout=30_000)
            text = page.inner_text("body")
            assert "Drift is detected for 25.0% of columns (1 out of 4)" in text
            assert "Dataset Drift is detected. Dataset drift detection threshold is 0.2" in text
            assert page.evaluate("self.origin") == "null"  # opaque: no cookies, not the lab
            assert page.evaluate("fetch('/secret').then(() => 'read', () => 'blocked')") \
                == "blocked"
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
