"""The Jupyter server extension: the REST API, live events and log streaming over the service.

A thin face: every handler calls the one ``ShipService`` the extension builds from the
``MlShip`` configuration, in a thread pool; nothing here decides anything the CLI could not.
"""

from __future__ import annotations

from ._app import PIPELINE_STATUS_SCHEMA_ID, RUN_STATUS_SCHEMA_ID, MlShipExtension

__all__ = ["MlShipExtension", "RUN_STATUS_SCHEMA_ID", "PIPELINE_STATUS_SCHEMA_ID"]
