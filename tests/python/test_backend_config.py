"""Backend settings: the new sections (c.DockerBackend.base_image, …), the older c.MlShip names
(with a warning naming the new one) and the environment variables all reach the service."""

from __future__ import annotations

import logging

from traitlets.config import Config

from jupyter_ml_ship.config import MlShip


def test_a_backend_section_sets_the_setting_and_wins_over_the_older_name(caplog):
    c = Config()
    c.DockerBackend.base_image = "registry.local/python:3.12"
    c.AirflowBackend.url = "http://127.0.0.1:9"
    c.LocalBackend.warm_runner = False
    with caplog.at_level(logging.WARNING, "jupyter_ml_ship"):
        s = MlShip(config=c)
    assert s.docker_base_image == "registry.local/python:3.12"
    assert s.airflow_url == "http://127.0.0.1:9" and s.warm_runner is False
    assert not caplog.records
    c.MlShip.docker_base_image = "old:name"
    assert MlShip(config=c).docker_base_image == "registry.local/python:3.12"


def test_the_older_names_keep_working_with_a_warning_naming_the_new_one(caplog):
    c = Config()
    c.MlShip.docker_base_image = "old:name"
    c.MlShip.airflow_dags_folder = "/srv/dags"
    with caplog.at_level(logging.WARNING, "jupyter_ml_ship"):
        s = MlShip(config=c)
    assert s.docker_base_image == "old:name" and s.airflow_dags_folder == "/srv/dags"
    said = " ".join(r.getMessage() for r in caplog.records)
    assert "c.MlShip.docker_base_image is deprecated: use c.DockerBackend.base_image" in said
    assert "use c.AirflowBackend.dags_folder" in said


def test_environment_variables_still_set_the_defaults(monkeypatch):
    monkeypatch.setenv("ML_SHIP_DOCKER_BASE_IMAGE", "from-env:1")
    monkeypatch.setenv("ML_SHIP_AIRFLOW_URL", "http://127.0.0.1:8")
    s = MlShip()
    assert s.docker_base_image == "from-env:1" and s.airflow_url == "http://127.0.0.1:8"
