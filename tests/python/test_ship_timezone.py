"""A schedule shipped with its time zone (``metadata.ml_ship.timezone``, written by the Ship
dialog): listed and fired in that zone, checked at ship, and an edit of the zone in the
Schedules view still wins over it (#24 item 5)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from jupyter_ml_ship.core.schedules import schedules
from jupyter_ml_ship.errors import BadInput


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)  # type: ignore[misc]


def test_a_schedule_shipped_in_paris_runs_at_six_in_paris(svc, nb):
    meta = {"ml_ship": {"schedule": "0 6 * * *", "timezone": "Europe/Paris"}}
    svc.ship(nb("paris.ipynb", "print('bonjour')", metadata=meta))
    [listed] = schedules(svc, utc(2026, 3, 28, 4, 30))
    assert (listed.timezone, listed.next_run) == ("Europe/Paris", utc(2026, 3, 28, 5, 0))
    assert svc.job("paris").schedule_timezone == "Europe/Paris"
    # the Schedules view moves it to UTC: the edit holds over the shipped zone
    assert svc.edit_schedule(None, "paris", timezone="UTC").timezone == "UTC"
    assert schedules(svc, utc(2026, 3, 28, 4, 30))[0].next_run == utc(2026, 3, 28, 6, 0)
    # and back to the shipped zone
    assert svc.edit_schedule(None, "paris", timezone="Europe/Paris").timezone == "Europe/Paris"


def test_an_unknown_time_zone_is_refused_at_ship_naming_the_key(svc, nb):
    meta = {"ml_ship": {"schedule": "0 6 * * *", "timezone": "Mars/Olympus"}}
    with pytest.raises(BadInput, match=r"metadata\.ml_ship\.timezone: 'Mars/Olympus' is not a "
                       "known time zone"):
        svc.ship(nb("mars.ipynb", "print(1)", metadata=meta))
