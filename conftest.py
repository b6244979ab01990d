"""Root conftest: pytest plugins must be declared here (not in nested conftests or modules)."""

import os

pytest_plugins = ["pytest_jupyter.jupyter_server", "tests.python.mlflow_harness"]

# a warm runner that a test could not stop (a server killed mid-test, say) exits soon by itself
os.environ.setdefault("ML_SHIP_WARM_RUNNER_IDLE", "60")
