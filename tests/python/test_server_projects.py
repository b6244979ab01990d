"""Projects over REST: the ship preview, a version's files, compare, a run's artifacts served
confined to the run (a real Jupyter server through jp_fetch)."""

from __future__ import annotations

from pathlib import Path

from .conftest import make_notebook
from .test_server import (  # noqa: F401 - fixtures
    Api,
    api,
    authorizer_class,
    error_of,
    jp_server_config,
    js,
    ml_home,
    wait_run,
)

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d4944415478da63f8cfc0f01f0005000201a3d5a0"
                    "7b0000000049454e44ae426082")


def project(root: Path) -> None:
    (root / "proj" / "data").mkdir(parents=True)
    (root / "proj" / "helper.py").write_text("ANSWER = 41\n")
    (root / "proj" / "data" / "in.csv").write_text("n\n1\n2\n")
    (root / "proj" / ".env").write_text("TOKEN=abc\n")
    make_notebook(
        root / "proj" / "job.ipynb",
        "import helper, base64\nprint('answer', helper.ANSWER + 1)\n"
        "open('out.csv', 'w').write('n,sq\\n1,1\\n2,4\\n')\n"
        f"open('plot.png', 'wb').write(bytes.fromhex({PNG.hex()!r}))\n"
        "open('page.html', 'w').write('<script>alert(1)</script>')",
    )


async def test_preview_ship_artifacts_and_compare(api: Api, jp_root_dir: Path) -> None:
    project(jp_root_dir)
    preview = js(await api("GET", "project", params={"path": "proj/job.ipynb"}))
    assert (preview["root"], preview["notebook"], preview["files"]) == ("proj", "job.ipynb", 2)
    assert {"path": ".env", "reason": "hidden"} in preview["excluded"]
    assert preview["error"] is None and preview["largest"][0]["path"] == "helper.py"

    shipped = js(await api("POST", "ship", body={"path": "proj/job.ipynb", "run": True},
                           expect=201))
    assert shipped["version"]["project"] == {"root": "proj", "notebook": "job.ipynb",
                                             "files": 2, "bytes": 18}
    run = await wait_run(api, shipped["run"]["id"])
    assert run["status"] == "succeeded", run
    log = (await api("GET", "runs", run["id"], "logs")).body.decode()
    assert "answer 42" in log

    files = js(await api("GET", "runs", run["id"], "files"))
    assert {f["path"] for f in files["files"]} == {"out.csv", "plot.png", "page.html"}
    r = await api("GET", "runs", run["id"], "files", "out.csv")
    assert r.body == b"n,sq\n1,1\n2,4\n" and r.headers["Content-Type"].startswith("text/csv")
    r = await api("GET", "runs", run["id"], "files", "plot.png", params={"download": "1"})
    assert r.body == PNG and r.headers["Content-Type"] == "image/png"
    assert r.headers["Content-Disposition"].startswith("attachment")
    r = await api("GET", "runs", run["id"], "files", "page.html")  # never active in our origin
    assert "sandbox" in r.headers["Content-Security-Policy"]
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    for bad in ("..%2Frun.json", "%2Fetc%2Fpasswd", "a/../../run.json"):
        r = await api("GET", "runs", run["id"], "files", bad, expect=None)
        assert r.code in (400, 404), (bad, r.code)
        error_of(r)
    code, msg = error_of(await api("GET", "runs", run["id"], "files", "nope.csv", expect=404))
    assert "nope.csv" in msg and "out.csv" in msg

    vfiles = js(await api("GET", "jobs", "job", "versions", "1", "files"))
    assert [f["path"] for f in vfiles["files"]] == ["data/in.csv", "helper.py"]
    (jp_root_dir / "proj" / "helper.py").write_text("ANSWER = 99\n")
    (jp_root_dir / "proj" / "extra.py").write_text("\n")
    await api("POST", "ship", body={"path": "proj/job.ipynb"}, expect=201)
    diff = js(await api("GET", "jobs", "job", "diff", params={"a": "1"}))
    assert (diff["a"], diff["b"]) == (1, 2)
    assert [c["path"] for c in diff["changed"]] == ["helper.py"]
    assert [f["path"] for f in diff["added"]] == ["extra.py"] and diff["notebook_diff"] == []
    assert diff["notebook_a"]["cells"]
    error_of(await api("GET", "jobs", "job", "diff", params={"a": "9"}, expect=404))
    error_of(await api("GET", "jobs", "job", "diff", params={"a": "x"}, expect=400))


async def test_a_project_root_outside_the_server_root_is_refused(api: Api,
                                                                 jp_root_dir: Path) -> None:
    make_notebook(jp_root_dir / "nb.ipynb", "print(1)", metadata={"ml_ship": {"root": ".."}})
    code, msg = error_of(await api("POST", "ship", body={"path": "nb.ipynb"}, expect=400))
    assert "outside the server root" in msg and "metadata.ml_ship.root" in msg
    preview = js(await api("GET", "project", params={"path": "nb.ipynb"}))
    assert "outside the server root" in preview["error"]
    assert js(await api("GET", "jobs"))["jobs"] == []
