# A JupyterHub that is one ml-ship team workspace: start from this file.
#
#     ML_SHIP_DB_URL=postgresql+psycopg://mlship@db.internal/mlship \
#     ML_SHIP_HOME=/srv/ml-ship HUB_SHARED_PASSWORD=... \
#     jupyterhub -f docs/jupyterhub_config.py
#
# Every user server points at one PostgreSQL store and one shared home (a folder every server
# and the agent can write; on Kubernetes a ReadWriteMany volume) and runs in team mode: the
# runs a user submits are recorded and the ml-ship agent, a hub-managed service, starts and
# follows them, so runs, pipelines and schedules keep going when a user's server stops or is
# culled. Identity comes from the hub: a job's owner is who shipped its first version, its
# owner groups are `metadata.ml_ship.owners` (group names below), `metadata.ml_ship.run_by:
# team` lets everyone run it, and ml-ship admins (the group `ml-ship-admins`, or the custom
# scope `custom:ml-ship:admin` through a role) may do everything. See the README, "Team mode
# on JupyterHub". The demo parts (shared password, simple spawner) are marked: replace them.
import os
import sys

c = get_config()  # noqa: F821 - JupyterHub provides get_config

DB_URL = os.environ.get("ML_SHIP_DB_URL", "postgresql+psycopg://mlship@db.internal/mlship")
HOME = os.environ.get("ML_SHIP_HOME", "/srv/ml-ship")
WORKSPACE = {"ML_SHIP_TEAM_MODE": "1", "ML_SHIP_DB_URL": DB_URL, "ML_SHIP_HOME": HOME}

c.JupyterHub.bind_url = os.environ.get("HUB_BIND_URL", "http://127.0.0.1:8000")
c.JupyterHub.hub_ip = "127.0.0.1"

# ---- who: users and groups ---------------------------------------------------------------
# DEMO: one shared password for everyone (use your OAuthenticator / LDAP in production).
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = os.environ.get("HUB_SHARED_PASSWORD", "change-me")
c.Authenticator.allowed_users = {"ada", "grace", "hopper"}
c.Authenticator.admin_users = {"hopper"}  # hub admin (manages servers); ml-ship admin below
# groups name the owners of jobs (metadata.ml_ship.owners: [data-science])
c.JupyterHub.load_groups = {
    "data-science": {"users": ["ada"]},
    "analysts": {"users": ["grace"]},
    "ml-ship-admins": {"users": ["hopper"]},  # MlShip.admin_groups
}
c.JupyterHub.custom_scopes = {
    "custom:ml-ship:admin": {
        "description": "ml-ship admin: ship, run, roll back, cancel and delete any job",
    },
}
c.JupyterHub.load_roles = [
    # the other way to make ml-ship admins (MlShip.admin_scope)
    {"name": "ml-ship-admin", "scopes": ["custom:ml-ship:admin"], "groups": ["ml-ship-admins"]},
    # users (and so their servers' tokens) may read the hub's group names: a notebook naming
    # an owner group that does not exist is refused when shipped
    {"name": "user", "scopes": ["self", "list:groups", "read:groups:name"]},
]
c.Spawner.server_token_scopes = ["users:activity!user", "access:servers!server",
                                 "list:groups", "read:groups:name"]
# the custom scope reaches the user's server in its OAuth token
c.Spawner.oauth_client_allowed_scopes = ["custom:ml-ship:admin"]

# ---- user servers: one shared workspace ----------------------------------------------------
# DEMO: every server runs as the hub's own OS user, in /tmp/<name>. In production use
# LocalProcessSpawner (one OS user each), DockerSpawner or KubeSpawner, with the shared home
# mounted at the same path in every server and in the agent.
c.JupyterHub.spawner_class = "simple"
c.Spawner.cmd = [sys.executable, "-m", "jupyterhub.singleuser"]
c.Spawner.default_url = "/lab"
c.Spawner.environment = dict(WORKSPACE)
if os.geteuid() == 0:  # the demo as root (a container): Jupyter refuses root without it
    c.Spawner.args = ["--allow-root"]

# ---- the agent: starts and follows every run, fires schedules ----------------------------
c.JupyterHub.services = [
    {
        "name": "ml-ship-agent",
        "command": [sys.executable, "-m", "jupyter_ml_ship", "agent"],
        "environment": dict(WORKSPACE),
    },
]
