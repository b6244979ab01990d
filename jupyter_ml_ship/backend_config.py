"""One configurable section per backend: ``c.DockerBackend.base_image``, ``c.AirflowBackend.url``,
``c.LocalBackend.warm_runner``.

They are the names to use; the older ``c.MlShip.docker_base_image`` … keep working (a warning
names the new one), as do the ``ML_SHIP_*`` environment variables. A value set in a backend's
section wins over the older name. The service reads the resolved value on ``MlShip``.
"""

from __future__ import annotations

import logging
from typing import Any

from traitlets import Bool, Float, Unicode
from traitlets.config import Configurable

log = logging.getLogger("jupyter_ml_ship")


class LocalBackend(Configurable):
    """The local backend: runs in a subprocess of this machine."""

    warm_runner = Bool(help="Fork runs from a warm runner process (was c.MlShip.warm_runner)."
                       ).tag(config=True, legacy="warm_runner")
    warm_runner_idle = Float(help="Seconds without a run before the warm runner exits (was "
                             "c.MlShip.warm_runner_idle).").tag(config=True,
                                                                legacy="warm_runner_idle")


class DockerBackend(Configurable):
    """The docker backend: an image per version, a container per run."""

    base_image = Unicode(help="Base image of job images (was c.MlShip.docker_base_image)."
                         ).tag(config=True, legacy="docker_base_image")
    r_base_image = Unicode(help="Base image of R notebooks' images, with R and IRkernel (default: "
                           "base_image with R installed by apt in a layer of its own)."
                           ).tag(config=True, legacy="docker_r_base_image")
    ca_bundle = Unicode(help="CA bundle (PEM) installed into images, for TLS-intercepting "
                        "proxies (was c.MlShip.ca_bundle).").tag(config=True, legacy="ca_bundle")
    wheelhouse = Unicode(help="Wheels to install from with no network (was c.MlShip.wheelhouse)."
                         ).tag(config=True, legacy="wheelhouse")
    host = Unicode(help="Docker engine URL (was c.MlShip.docker_host).").tag(
        config=True, legacy="docker_host")
    installer = Unicode(help="auto, uv or pip (was c.MlShip.docker_installer).").tag(
        config=True, legacy="docker_installer")
    memory = Unicode(help="Memory limit of a container when the job sets none (was "
                     "c.MlShip.docker_memory).").tag(config=True, legacy="docker_memory")
    cpus = Float(help="CPU limit of a container when the job sets none (was "
                 "c.MlShip.docker_cpus).").tag(config=True, legacy="docker_cpus")
    stop_grace = Float(help="Seconds a cancelled container gets before it is killed (was "
                       "c.MlShip.docker_stop_grace).").tag(config=True, legacy="docker_stop_grace")


class AirflowBackend(Configurable):
    """The airflow backend: DAGs on an Apache Airflow 3, through its REST API."""

    url = Unicode(help="Airflow API base URL (was c.MlShip.airflow_url).").tag(
        config=True, legacy="airflow_url")
    username = Unicode(help="Airflow user (was c.MlShip.airflow_username).").tag(
        config=True, legacy="airflow_username")
    password = Unicode(help="Airflow password; never logged or stored (was "
                       "c.MlShip.airflow_password).").tag(config=True, legacy="airflow_password")
    dags_folder = Unicode(help="The DAGs folder Airflow reads (was c.MlShip.airflow_dags_folder)."
                          ).tag(config=True, legacy="airflow_dags_folder")
    operator = Unicode(help="'docker' or 'kubernetes' steps (was c.MlShip.airflow_operator)."
                       ).tag(config=True, legacy="airflow_operator")
    artifacts = Unicode(help="Storage shared by a DAG run's steps (was "
                        "c.MlShip.airflow_artifacts).").tag(config=True, legacy="airflow_artifacts")
    namespace = Unicode(help="Kubernetes namespace of the step pods (was "
                        "c.MlShip.airflow_namespace).").tag(config=True, legacy="airflow_namespace")
    deploy_timeout = Float(help="Seconds to wait for Airflow to load a new DAG file (was "
                           "c.MlShip.airflow_deploy_timeout).").tag(config=True,
                                                                    legacy="airflow_deploy_timeout")


SECTIONS: tuple[type[Configurable], ...] = (LocalBackend, DockerBackend, AirflowBackend)


def apply_backend_sections(settings: Any) -> None:
    """Copy what the backend sections set onto ``settings`` (an ``MlShip``) and warn about the
    older names still set in its own section."""
    config = settings.config
    mine = config.get("MlShip", {})
    for section in SECTIONS:
        given = config.get(section.__name__, {})
        for name, trait in section.class_traits(config=True).items():
            legacy = trait.metadata["legacy"]
            if name in given:
                setattr(settings, legacy, given[name])
            elif legacy in mine:
                log.warning("c.MlShip.%s is deprecated: use c.%s.%s", legacy, section.__name__,
                            name)
