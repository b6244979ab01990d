"""Issue #26: "ship anyway" for a project folder over the server's limits (an ml-ship admin, the
user of a single-user server, or anyone with ``MlShip.allow_big_ship``), up to
``MlShip.ship_anyway_max_files`` / ``max_bytes``, and audited."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from jupyter_ml_ship.core import ShipService
from jupyter_ml_ship.core.access import Actor
from jupyter_ml_ship.errors import Forbidden, TooLarge

from .conftest import make_notebook
from .test_server import Api, api, error_of, js, ml_home  # noqa: F401  (fixtures)


def big_folder(folder: Path, files: int = 5) -> Path:
    notebook = make_notebook(folder / "big.ipynb", "print('big')")
    for i in range(files):
        (folder / "data" / f"part{i}.csv").parent.mkdir(parents=True, exist_ok=True)
        (folder / "data" / f"part{i}.csv").write_text(f"x\n{i}\n")
    return notebook


@pytest.fixture
def small(settings) -> ShipService:
    settings.max_project_files = 3
    settings.ship_anyway_max_files = 10
    service = ShipService(settings)
    yield service
    service.close()


def trail(svc: ShipService) -> list[Any]:
    return [e for e in svc.audit_trail("big").events if e.kind == "ship-anyway"]


def test_a_folder_over_the_limits_ships_anyway_for_who_may_and_is_audited(small, tmp_path):
    notebook = big_folder(tmp_path / "proj")
    with pytest.raises(TooLarge, match="5 files"):
        small.ship(notebook)
    alice = Actor.of("alice")  # team mode, not an admin
    with pytest.raises(Forbidden, match="alice may not ship .* only an ml-ship admin"):
        small.ship(notebook, ship_anyway=True, actor=alice)
    assert small.jobs() == [] and small.audit_trail().events == []  # nothing recorded

    preview = small.project_preview(notebook)  # single-user: the user may
    assert preview.error and preview.may_ship_anyway and preview.anyway_max_files == 10
    assert not small.project_preview(notebook, actor=alice).may_ship_anyway

    admin = Actor.of("root", admin=True)
    assert small.project_preview(notebook, actor=admin).may_ship_anyway
    shipped = small.ship(notebook, ship_anyway=True, actor=admin)
    assert shipped.version.number == 1 and shipped.version.project.files == 5
    [event] = trail(small)
    assert event.actor == "root"
    assert event.data["files"] == 5 and event.data["max_files"] == 3
    assert event.data["version"] == 1


def test_allow_big_ship_lets_anyone_and_the_raised_limit_still_holds(small, tmp_path):
    small.settings.allow_big_ship = True
    notebook = big_folder(tmp_path / "proj")
    bob = Actor.of("bob")
    assert small.project_preview(notebook, actor=bob).may_ship_anyway
    assert small.ship(notebook, ship_anyway=True, actor=bob).version.project.files == 5
    assert [e.actor for e in trail(small)] == ["bob"]

    huge = big_folder(tmp_path / "huge", files=12)  # over ship_anyway_max_files too
    preview = small.project_preview(huge, actor=bob)
    assert preview.error and not preview.may_ship_anyway
    with pytest.raises(TooLarge, match="12 files .limit 10."):
        small.ship(huge, name="huge", ship_anyway=True, actor=bob)


# ---- REST ----------------------------------------------------------------------------------


@pytest.fixture
def jp_server_config(ml_home: Path) -> dict[str, Any]:  # noqa: F811
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_ml_ship": True}},
        "MlShip": {"home": str(ml_home), "freeze_environment": False, "reconcile_interval": 200,
                   "max_project_files": 3},
    }


async def test_the_routes_say_who_may_and_ship_anyway(api: Api, jp_root_dir: Path) -> None:  # noqa: F811
    big_folder(jp_root_dir / "proj")
    preview = js(await api("GET", "project", params={"path": "proj/big.ipynb"}))
    assert "5 files (limit 3)" in preview["error"]
    assert preview["may_ship_anyway"] is True and preview["anyway_max_files"] == 100_000
    r = await api("POST", "ship", body={"path": "proj/big.ipynb"}, expect=413)
    assert "5 files (limit 3)" in error_of(r)[1]
    r = await api("POST", "ship", body={"path": "proj/big.ipynb", "ship_anyway": True},
                  expect=201)
    assert js(r)["version"]["project"]["files"] == 5
    audit = js(await api("GET", "jobs", "big", "audit"))["events"]
    assert [e["data"]["files"] for e in audit if e["kind"] == "ship-anyway"] == [5]
