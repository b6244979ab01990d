"""Reading, validating and snapshotting notebooks (nbformat + papermill)."""

from ._snapshot import ShipConfig, Snapshot, load_notebook, make_snapshot, parameter_schema

__all__ = ["ShipConfig", "Snapshot", "load_notebook", "make_snapshot", "parameter_schema"]
