# The ml-ship agent as a JupyterHub-managed service: add this to jupyterhub_config.py.
# JupyterHub starts it with the hub, restarts it if it dies, and stops it with the hub; user
# servers on the same store (MlShip.home / MlShip.db_url set for every user) then leave
# schedules, pipelines and run following to it, so they keep going when a server is culled.
import sys

c.JupyterHub.services = [  # noqa: F821 - `c` is the config object JupyterHub provides
    {
        "name": "ml-ship-agent",
        "command": [sys.executable, "-m", "jupyter_ml_ship", "agent"],
        "environment": {
            "ML_SHIP_HOME": "/srv/ml-ship",  # a folder every user server can read and write
            # "ML_SHIP_DB_URL": "postgresql+psycopg://mlship@db.internal/mlship",
        },
    },
]
