"""Settings shared by the CLI and the server extension (one traitlets ``Configurable``).

In ``jupyter_server_config.py``: ``c.MlShip.home = "/data/ml_ship"``; on the command line of the
server: ``--MlShip.default_backend=docker``; for the CLI: environment variables ``ML_SHIP_*``.
Backend settings have sections of their own (``c.DockerBackend.base_image``:
``backend_config.py``); their older ``c.MlShip.docker_*`` names still work.
"""

from __future__ import annotations

import os
from pathlib import Path

from traitlets import Bool, Dict, Float, Int, List, Unicode, default
from traitlets.config import Configurable


def _env(name: str, fallback: str = "") -> str:
    return os.environ.get(name, fallback)


class MlShip(Configurable):
    """Where jupyter_ml_ship keeps its state and how it runs jobs."""

    home = Unicode(help="Directory for the database, notebook snapshots, run logs and outputs "
                   "(env ML_SHIP_HOME; default: <jupyter data dir>/ml_ship).").tag(config=True)
    db_url = Unicode(help="SQLAlchemy URL of the store (env ML_SHIP_DB_URL; default SQLite in "
                     "the home). PostgreSQL: postgresql+psycopg://user@host/db").tag(config=True)
    default_backend = Unicode(help="Backend used when a run names none (env ML_SHIP_BACKEND)."
                              ).tag(config=True)
    spark_master = Unicode(help="Spark master of PySpark jobs (metadata.ml_ship.spark) that "
                           "name none, e.g. spark://host:7077 (env ML_SHIP_SPARK_MASTER; "
                           "default local[*]).").tag(config=True)
    max_request_bytes = Int(2 * 1024 * 1024, help="Largest accepted request body / parameter "
                            "payload in bytes.").tag(config=True)
    max_notebook_bytes = Int(200 * 1024 * 1024, help="Largest notebook accepted for shipping."
                             ).tag(config=True)
    max_project_bytes = Int(200 * 1024 * 1024, help="Largest project folder (the files shipped "
                            "with a notebook) in bytes.").tag(config=True)
    max_project_files = Int(5000, help="Most files a project folder may hold.").tag(config=True)
    allow_big_ship = Bool(False, help="Anyone may ship a project folder over max_project_files / "
                          "max_project_bytes anyway (the Ship dialog's 'Ship anyway', "
                          "ship_anyway in POST /ship), up to ship_anyway_max_files / "
                          "ship_anyway_max_bytes; without it only an ml-ship admin (or the "
                          "user of a single-user server) may. Audited either way."
                          ).tag(config=True)
    ship_anyway_max_bytes = Int(5 * 1024 ** 3, help="Largest project folder a 'ship anyway' "
                                "takes, in bytes.").tag(config=True)
    ship_anyway_max_files = Int(100_000, help="Most files of a project folder a 'ship anyway' "
                                "takes.").tag(config=True)
    max_artifact_bytes = Int(1024 * 1024 * 1024, help="Most bytes of files a run creates or "
                             "changes that are kept with it (its artifacts); past it the log "
                             "says what was not kept.").tag(config=True)
    freeze_environment = Bool(True, help="Lock the kernel environment's packages when a notebook "
                              "has no requirements.").tag(config=True)
    reconcile_interval = Int(1000, help="Milliseconds between server checks of active runs."
                             ).tag(config=True)
    discover_interval = Int(help="Seconds between the server's (or agent's) looks for runs a "
                            "backend's own scheduler started (Airflow's schedule, its UI or API), "
                            "which it then records and follows; 0: never (env "
                            "ML_SHIP_DISCOVER_INTERVAL; default 30).").tag(config=True)
    schedule_interval = Int(15, help="Seconds between the server's looks for schedules that "
                            "are due (a job's metadata.ml_ship.schedule, a pipeline's schedule:) "
                            "on backends other than Airflow, whose DAGs keep their own; 0: the "
                            "server runs no schedule.").tag(config=True)
    trigger_rate_limit = Int(30, help="Runs a job's webhook trigger may start a minute "
                             "(POST /ml-ship/api/triggers/{token}); beyond: 429.").tag(config=True)
    warm_runner = Bool(help="Keep a warm runner process for the local backend (papermill, "
                       "ipykernel and IPython imported once; runs and their kernels forked from "
                       "it): a run starts in tens of milliseconds instead of most of a second. "
                       "Started by the Jupyter server and by pipeline runs; any run uses it when "
                       "it is up (env ML_SHIP_WARM_RUNNER=0 turns it off).").tag(config=True)
    warm_runner_idle = Float(help="Seconds without a run after which the warm runner exits "
                             "(env ML_SHIP_WARM_RUNNER_IDLE; default 600).").tag(config=True)
    parallelism = Int(0, help="Steps of a pipeline run at once (0: number of cores)."
                      ).tag(config=True)
    # docker backend
    docker_base_image = Unicode(help="Base image of job images (env ML_SHIP_DOCKER_BASE_IMAGE; "
                                "default python:3.11-slim).").tag(config=True)
    docker_r_base_image = Unicode(help="Base image of R notebooks' images, with R and IRkernel "
                                  "(env ML_SHIP_DOCKER_R_BASE_IMAGE; default: docker_base_image "
                                  "with r-base-core and r-cran-irkernel installed by apt in a "
                                  "layer of its own).").tag(config=True)
    ca_bundle = Unicode(help="CA bundle (PEM) installed into images and mounted at run time, for "
                        "TLS-intercepting proxies (env ML_SHIP_CA_BUNDLE).").tag(config=True)
    wheelhouse = Unicode(help="Directory of wheels to install from with no network "
                         "(env ML_SHIP_WHEELHOUSE).").tag(config=True)
    docker_host = Unicode(help="Docker engine URL (env DOCKER_HOST; default "
                          "unix:///var/run/docker.sock).").tag(config=True)
    docker_installer = Unicode(help="Installer in image builds: auto (uv when found, else pip), "
                               "uv or pip (env ML_SHIP_DOCKER_INSTALLER).").tag(config=True)
    docker_memory = Unicode(help="Memory limit of a container when the job sets none, e.g. 4g "
                            "(env ML_SHIP_DOCKER_MEMORY; default: no limit).").tag(config=True)
    docker_cpus = Float(0.0, help="CPU limit of a container when the job sets none "
                        "(0: no limit).").tag(config=True)
    docker_stop_grace = Float(10.0, help="Seconds a cancelled container gets to stop before it "
                              "is killed.").tag(config=True)
    # airflow backend
    airflow_url = Unicode(help="Airflow API base URL, e.g. http://127.0.0.1:8080 "
                          "(env ML_SHIP_AIRFLOW_URL).").tag(config=True)
    airflow_username = Unicode(help="Airflow user (env ML_SHIP_AIRFLOW_USERNAME).").tag(config=True)
    airflow_password = Unicode(help="Airflow password (env ML_SHIP_AIRFLOW_PASSWORD); never "
                               "logged or stored.").tag(config=True)
    airflow_dags_folder = Unicode(help="Airflow DAGs folder the generated DAG files go to "
                                  "(env ML_SHIP_AIRFLOW_DAGS_FOLDER).").tag(config=True)
    airflow_operator = Unicode(help="'docker' (DockerOperator) or 'kubernetes' "
                               "(KubernetesPodOperator) steps (env ML_SHIP_AIRFLOW_OPERATOR)."
                               ).tag(config=True)
    airflow_artifacts = Unicode(help="Storage shared by the steps of a DAG run, mounted at the "
                                "same path in every step: a directory of the Docker host "
                                "(docker operator) or a ReadWriteMany PersistentVolumeClaim name "
                                "(kubernetes). Empty: steps share only their recorded outputs "
                                "(env ML_SHIP_AIRFLOW_ARTIFACTS).").tag(config=True)
    airflow_namespace = Unicode("default", help="Kubernetes namespace of the step pods "
                                "(kubernetes operator).").tag(config=True)
    airflow_deploy_timeout = Float(600.0, help="Seconds to wait for Airflow to load a new DAG "
                                   "file (its dag-processor lists the DAGs folder every "
                                   "[dag_processor] refresh_interval).").tag(config=True)
    # team mode on JupyterHub (core/access.py; README "Team mode on JupyterHub")
    team_mode = Bool(help="One shared workspace for the users of a JupyterHub (set for every "
                     "user server, with one PostgreSQL db_url and one shared home): runs a user "
                     "submits are recorded queued and the ml-ship agent (a JupyterHub service) "
                     "starts them, so they outlive the user's server; with no live agent, "
                     "submitting is refused (503). Identity and permissions come from the hub "
                     "(env ML_SHIP_TEAM_MODE=1).").tag(config=True)
    admin_groups = List(Unicode(), default_value=["ml-ship-admins"], help="JupyterHub groups "
                        "whose members are ml-ship admins (may do everything to every job)."
                        ).tag(config=True)
    admin_scope = Unicode("custom:ml-ship:admin", help="A JupyterHub scope (a custom scope "
                          "granted through a role) whose holders are ml-ship admins."
                          ).tag(config=True)
    enabled_backends = List(Unicode(), default_value=["local", "docker", "airflow"],
                            help="Backends offered to users.").tag(config=True)
    # environments (core/environments.py; README "Environments and git provenance")
    environments = List(Unicode(), default_value=["staging", "production"], help="Named "
                        "pointers each job and pipeline has to one of its versions, like "
                        "MLflow aliases, in promotion order; production is always one of them "
                        "and is the current version.").tag(config=True)
    promote_groups = Dict(value_trait=List(Unicode()), default_value={}, help="Team mode: "
                          "who may promote to an environment, {environment: [JupyterHub "
                          "groups]}; an environment listed here is promoted to by members of "
                          "its groups and ml-ship admins only, one not listed by the job's "
                          "owners.").tag(config=True)
    # notifications and MLflow (core/notifications/, its channels/mlflow.py)
    smtp_host = Unicode(help="SMTP server for notification mails (env ML_SHIP_SMTP_HOST; "
                        "empty: no mail is sent, and a rule with email shows the failure on the "
                        "run).").tag(config=True)
    smtp_port = Int(0, help="SMTP port (env ML_SHIP_SMTP_PORT; 0: 465 with smtp_tls, else 587 "
                    "with smtp_starttls, else 25).").tag(config=True)
    smtp_starttls = Bool(help="Upgrade the SMTP connection with STARTTLS (env "
                         "ML_SHIP_SMTP_STARTTLS=1).").tag(config=True)
    smtp_tls = Bool(help="Connect over implicit TLS (SMTPS; env ML_SHIP_SMTP_TLS=1)."
                    ).tag(config=True)
    smtp_user = Unicode(help="SMTP login user (env ML_SHIP_SMTP_USER); its password is read "
                        "from the environment variable named by smtp_password_env."
                        ).tag(config=True)
    smtp_password_env = Unicode("ML_SHIP_SMTP_PASSWORD", help="Name of the environment variable "
                                "holding the SMTP password (never stored or logged)."
                                ).tag(config=True)
    smtp_from = Unicode(help="From address of notification mails (env ML_SHIP_SMTP_FROM; "
                        "default ml-ship@<host name>).").tag(config=True)
    lab_url = Unicode(help="Public URL of the lab (e.g. https://hub.example.com/user/me/lab), "
                      "for links to a run in mails and webhooks (env ML_SHIP_LAB_URL)."
                      ).tag(config=True)
    notify_attempts = Int(8, help="Attempts of a notification (or MLflow log) before it is shown "
                          "as failed on the run; retried with exponential backoff."
                          ).tag(config=True)
    notify_backoff = Float(5.0, help="Seconds before the first retry of a failed notification; "
                           "doubled at each attempt (at most an hour).").tag(config=True)
    notify_max_age = Float(7 * 86400.0, help="Seconds after its end past which a run is no "
                           "longer notified about (a store restored from an old backup).",
                           ).tag(config=True)
    report_max_bytes = Int(10 * 1024 * 1024, help="Largest HTML report attached to a mail; a "
                           "bigger one is left out and the mail says so.").tag(config=True)
    mlflow_tracking_uri = Unicode(help="MLflow tracking server: every finished run is logged "
                                  "there once (env MLFLOW_TRACKING_URI; empty: no MLflow). "
                                  "Needs the [mlflow] extra.").tag(config=True)

    @default("home")
    def _home(self) -> str:
        if _env("ML_SHIP_HOME"):
            return _env("ML_SHIP_HOME")
        from jupyter_core.paths import jupyter_data_dir

        return str(Path(jupyter_data_dir()) / "ml_ship")

    @default("db_url")
    def _db_url(self) -> str:
        return _env("ML_SHIP_DB_URL") or f"sqlite:///{Path(self.home) / 'ml_ship.db'}"

    @default("team_mode")
    def _team_mode(self) -> bool:
        return _env("ML_SHIP_TEAM_MODE").lower() in ("1", "true", "yes", "on")

    @default("discover_interval")
    def _discover_interval(self) -> int:
        return int(_env("ML_SHIP_DISCOVER_INTERVAL", "30"))

    @default("default_backend")
    def _default_backend(self) -> str:
        return _env("ML_SHIP_BACKEND", "local")

    @default("spark_master")
    def _spark_master(self) -> str:
        return _env("ML_SHIP_SPARK_MASTER", "local[*]")

    @default("warm_runner")
    def _warm_runner(self) -> bool:
        if not hasattr(os, "fork"):  # the warm runner forks runs and kernels (not on Windows)
            return False
        return _env("ML_SHIP_WARM_RUNNER", "1").lower() not in ("0", "false", "no", "off")

    @default("warm_runner_idle")
    def _warm_runner_idle(self) -> float:
        return float(_env("ML_SHIP_WARM_RUNNER_IDLE", "600"))

    @default("docker_base_image")
    def _base_image(self) -> str:
        return _env("ML_SHIP_DOCKER_BASE_IMAGE", "python:3.11-slim")

    @default("docker_r_base_image")
    def _r_base_image(self) -> str:
        return _env("ML_SHIP_DOCKER_R_BASE_IMAGE")

    @default("ca_bundle")
    def _ca_bundle(self) -> str:
        return _env("ML_SHIP_CA_BUNDLE")

    @default("wheelhouse")
    def _wheelhouse(self) -> str:
        return _env("ML_SHIP_WHEELHOUSE")

    @default("docker_host")
    def _docker_host(self) -> str:
        return _env("DOCKER_HOST")

    @default("docker_installer")
    def _docker_installer(self) -> str:
        return _env("ML_SHIP_DOCKER_INSTALLER", "auto")

    @default("docker_memory")
    def _docker_memory(self) -> str:
        return _env("ML_SHIP_DOCKER_MEMORY")

    @default("airflow_url")
    def _airflow_url(self) -> str:
        return _env("ML_SHIP_AIRFLOW_URL")

    @default("airflow_username")
    def _airflow_username(self) -> str:
        return _env("ML_SHIP_AIRFLOW_USERNAME")

    @default("airflow_password")
    def _airflow_password(self) -> str:
        return _env("ML_SHIP_AIRFLOW_PASSWORD")

    @default("airflow_dags_folder")
    def _airflow_dags(self) -> str:
        return _env("ML_SHIP_AIRFLOW_DAGS_FOLDER")

    @default("airflow_operator")
    def _airflow_operator(self) -> str:
        return _env("ML_SHIP_AIRFLOW_OPERATOR", "docker")

    @default("airflow_artifacts")
    def _airflow_artifacts(self) -> str:
        return _env("ML_SHIP_AIRFLOW_ARTIFACTS")

    @default("smtp_host")
    def _smtp_host(self) -> str:
        return _env("ML_SHIP_SMTP_HOST")

    @default("smtp_port")
    def _smtp_port(self) -> int:
        return int(_env("ML_SHIP_SMTP_PORT", "0") or 0)

    @default("smtp_starttls")
    def _smtp_starttls(self) -> bool:
        return _env("ML_SHIP_SMTP_STARTTLS").lower() in ("1", "true", "yes", "on")

    @default("smtp_tls")
    def _smtp_tls(self) -> bool:
        return _env("ML_SHIP_SMTP_TLS").lower() in ("1", "true", "yes", "on")

    @default("smtp_user")
    def _smtp_user(self) -> str:
        return _env("ML_SHIP_SMTP_USER")

    @default("smtp_from")
    def _smtp_from(self) -> str:
        return _env("ML_SHIP_SMTP_FROM")

    @default("lab_url")
    def _lab_url(self) -> str:
        return _env("ML_SHIP_LAB_URL")

    @default("mlflow_tracking_uri")
    def _mlflow_uri(self) -> str:
        return _env("MLFLOW_TRACKING_URI")

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        from .backend_config import apply_backend_sections

        apply_backend_sections(self)  # c.DockerBackend.base_image and the other new names

    @property
    def home_path(self) -> Path:
        return Path(self.home).expanduser()
