"""The service both faces (CLI and server) share. No jupyter_server imports here."""

from ..models import TERMINAL_STATUSES, JobInfo, RunInfo, ShipResult, VersionInfo
from .service import ShipService

__all__ = ["ShipService", "JobInfo", "RunInfo", "ShipResult", "VersionInfo", "TERMINAL_STATUSES"]
