"""Root conftest: pytest plugins must be declared here (not in nested conftests or modules)."""

pytest_plugins = ["pytest_jupyter.jupyter_server"]
