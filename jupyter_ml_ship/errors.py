"""Errors raised by the service.

Every error the service raises on purpose is a ``ShipError``; its ``code`` and ``http_status``
let the CLI (exit 2, one line) and the server (``{"error", "message"}``) report it the same way.

    ShipError
    ├── BadInput          400  something the caller sent is wrong (the message says what and where)
    │   └── InvalidPipeline    a pipeline file that parses but does not validate (+ its steps)
    ├── Forbidden         403  the user may not do that here (the message says who may)
    ├── NotFound          404  unknown job, version, run or pipeline
    ├── Conflict          409  the request does not fit the current state
    ├── TooLarge          413  a payload over the configured limit
    └── BackendUnavailable 503 a backend that is not installed, not running or unreachable
"""

from __future__ import annotations

from typing import Any


class ShipError(Exception):
    code = "error"
    http_status = 500

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class BadInput(ShipError):
    code = "bad_request"
    http_status = 400


class InvalidPipeline(BadInput):
    """A pipeline file that parses but does not validate; ``steps`` is what it says (each a
    ``StepInfo`` as JSON), so an editor can still draw the graph next to the message."""

    def __init__(self, message: str, steps: list[dict[str, Any]]):
        super().__init__(message)
        self.steps = steps


class Forbidden(ShipError):
    """Team mode: the acting user is neither an owner nor an admin (``core.access``)."""

    code = "forbidden"
    http_status = 403


class NotFound(ShipError):
    code = "not_found"
    http_status = 404


class Conflict(ShipError):
    code = "conflict"
    http_status = 409


class TooLarge(ShipError):
    code = "too_large"
    http_status = 413


class BackendUnavailable(ShipError):
    code = "unavailable"
    http_status = 503


__all__ = ["ShipError", "BadInput", "Forbidden", "NotFound", "Conflict", "TooLarge", "BackendUnavailable"]
