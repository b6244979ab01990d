"""Environments over REST (a real Jupyter server through jp_fetch): POST …/promote {to} moves only
that environment, GET job and version say where each points, an unknown environment is a 404
naming it (the request is well formed, its target is not there), GET /health lists the configured environments."""

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
)


async def test_promote_to_an_environment_over_rest(api: Api, jp_root_dir: Path) -> None:
    for x in (1, 2):
        make_notebook(jp_root_dir / "churn.ipynb", f"print({x})")
        await api("POST", "ship", body={"path": "churn.ipynb"}, expect=201)
    assert js(await api("GET", "health"))["environments"] == ["staging", "production"]
    staged = js(await api("POST", "jobs", "churn", "versions", "1", "promote",
                          body={"to": "staging"}))
    assert (staged["environments"], staged["is_current"]) == (["staging"], False)
    job = js(await api("GET", "jobs", "churn"))
    assert (job["environments"], job["current_version"]) == ({"staging": 1, "production": 2}, 2)
    listed = js(await api("GET", "jobs", "churn", "versions"))["versions"]
    assert [(v["number"], v["environments"]) for v in listed] == [(2, ["production"]),
                                                                  (1, ["staging"])]
    code, message = error_of(await api("POST", "jobs", "churn", "versions", "1", "promote",
                                       body={"to": "qa"}, expect=404))
    assert code == "not_found" and "no environment named 'qa'" in message
    code, message = error_of(await api("POST", "jobs", "churn", "versions", "1", "promote",
                                       body={"to": "staging"}, expect=409))
    assert message == "churn v1 is already in staging"
    trail = js(await api("GET", "jobs", "churn", "audit"))["events"]
    assert (trail[0]["kind"], trail[0]["data"]["environment"]) == ("promote", "staging")
