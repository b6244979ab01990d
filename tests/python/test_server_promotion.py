"""Gated promotion over REST (a real Jupyter server through jp_fetch): a candidate's state on
its version, promoted by its validation run; a rejected one refused by POST …/promote (409,
saying why) until ``force``."""

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

RECORD = "from jupyter_ml_ship import record\nrecord('accuracy', acc)"


async def test_a_candidate_over_rest_promoted_rejected_and_forced(api: Api,
                                                                  jp_root_dir: Path) -> None:
    meta = {"ml_ship": {"promote": {"not_worse": {"accuracy": 0.01}}}}
    make_notebook(jp_root_dir / "train.ipynb", RECORD, params="acc = 0.9", metadata=meta)
    first = js(await api("POST", "ship", body={"path": "train.ipynb"}, expect=201))["version"]
    assert (first["promotion"], first["is_current"]) == ("validating", False)
    assert (await wait_run(api, first["validation_run_id"]))["status"] == "succeeded"
    v1 = js(await api("GET", "jobs", "train", "versions", "1"))
    assert (v1["promotion"], v1["is_current"]) == ("promoted", True)
    assert v1["reference_run_id"] == first["validation_run_id"]

    make_notebook(jp_root_dir / "train.ipynb", RECORD, params="acc = 0.5", metadata=meta)
    second = js(await api("POST", "ship", body={"path": "train.ipynb"}, expect=201))["version"]
    await wait_run(api, second["validation_run_id"])
    v2 = js(await api("GET", "jobs", "train", "versions", "2"))
    assert v2["promotion"] == "rejected" and "accuracy 0.5 is 0.4 below v1's 0.9" in \
        v2["promotion_reason"]
    job = js(await api("GET", "jobs", "train"))
    assert job["current_version"] == 1 and job["permissions"]["promote"]["allowed"]

    code, message = error_of(await api("POST", "jobs", "train", "versions", "2", "promote",
                                       body={}, expect=409))
    assert code == "conflict" and message.startswith("train v2 was rejected: validation run")
    code, message = error_of(await api("POST", "jobs", "train", "versions", "2", "promote",
                                       body={"force": "please"}, expect=400))
    assert code == "bad_request" and "force" in message
    forced = js(await api("POST", "jobs", "train", "versions", "2", "promote",
                          body={"force": True}))
    assert (forced["promotion"], forced["is_current"]) == ("promoted", True)
    assert js(await api("GET", "jobs", "train"))["current_version"] == 2
    trail = js(await api("GET", "jobs", "train", "audit"))["events"]
    assert [e["kind"] for e in trail[:2]] == ["promote", "reject"]
