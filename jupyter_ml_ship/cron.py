"""Schedules as written: cron expressions (five fields, UTC unless a time zone is given) and
Airflow's presets.

A schedule may be read in an IANA time zone (``check_timezone``): its ticks are computed by
croniter on zone-aware datetimes, so daylight saving is handled (``0 6 * * *`` in
Europe/Paris is 05:00 UTC in winter, 04:00 UTC in summer); every time returned is UTC.

A schedule is checked when it is shipped: its syntax, and that it fires. croniter accepts
expressions no calendar ever matches (``0 0 31 2 *``, ``0 0 30 2 *``, ``0 0 31 4,6,9,11 *``,
``0 0 * 2 1#5`` but once in 28 years): a schedule must fire within ``MAX_YEARS_APART`` years
and again within as many years after that (a leap day, ``0 0 29 2 *``, fires every 4 years,
8 across 2100). Random fields (``R``) are refused too: each reading would see other times.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import BadInput

#: Airflow's presets and their cron form; ``@once`` and ``@continuous`` have none (Airflow only)
PRESETS: dict[str, str | None] = {
    "@hourly": "0 * * * *", "@daily": "0 0 * * *", "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *", "@quarterly": "0 0 1 */3 *", "@yearly": "0 0 1 1 *",
    "@once": None, "@continuous": None,
}
#: the most years a schedule may go without firing (8: Feb 29 across 2100)
MAX_YEARS_APART = 8
#: the longest schedule text
MAX_LENGTH = 200
_CRON_FIELD = re.compile(r"^[0-9A-Za-z*/,?#LW-]+$")
#: croniter's random field ``R`` (no month or weekday name starts with R)
_RANDOM = re.compile(r"(^|[,/-])R(?![A-Za-z])", re.I)
#: an IANA zone name as written (Area/Location, Etc/GMT+5, UTC)
_ZONE = re.compile(r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9][A-Za-z0-9_+-]*){0,2}$")


class NeverFires(BadInput):
    """A schedule that is well formed but that no date matches (or hardly ever)."""


def check_schedule(value: Any, where: str) -> str | None:
    """A schedule with its spaces normalised, or ``BadInput`` saying what is wrong and where."""
    from croniter import croniter

    if value is None:
        return None
    fields = str(value).split() if isinstance(value, str) and len(value) <= MAX_LENGTH else []
    text = " ".join(fields)
    if len(fields) == 5 and any(_RANDOM.search(f) for f in fields):
        raise BadInput(f"{where}: {value!r}: random fields (R) are not supported: each reading "
                       "would give other times; write the minute and hour, e.g. '17 6 * * *'")
    if (len(fields) == 1 and text in PRESETS) or (
            len(fields) == 5 and all(_CRON_FIELD.match(f) for f in fields)
            and croniter.is_valid(text)):
        try:
            fire_times(text)
        except NeverFires as exc:
            raise NeverFires(f"{where}: {exc.message}") from None
        return text
    raise BadInput(f"{where}: {str(value)[:MAX_LENGTH]!r} is not a schedule: write a cron "
                   f"expression such as '0 6 * * *' (minute hour day month weekday, UTC) or "
                   f"one of {', '.join(PRESETS)}")


def check_timezone(value: Any, where: str) -> str:
    """An IANA time zone name (default ``UTC``), or ``BadInput`` saying it is unknown."""
    if value is None or value == "":
        return "UTC"
    text = str(value).strip()
    if isinstance(value, str) and len(text) <= 64 and _ZONE.match(text):
        try:
            ZoneInfo(text)
            return text
        except (ZoneInfoNotFoundError, ValueError):
            pass
    raise BadInput(f"{where}: {str(value)[:64]!r} is not a known time zone: write an IANA "
                   "name such as 'UTC', 'Europe/Paris' or 'America/New_York'")


def zone(name: str | None) -> tzinfo:
    """The tzinfo of a zone name checked by ``check_timezone`` (UTC for none)."""
    return timezone.utc if not name or name == "UTC" else ZoneInfo(name)


def describe(schedule: str) -> str:
    """The schedule in words ("At 06:00 AM, Monday through Friday"); "" if it has none."""
    from cron_descriptor import Options, get_description

    cron = cron_of(schedule)
    if cron is None:
        return {"@once": "Once", "@continuous": "Continuously"}.get(schedule, "")
    options = Options()
    options.use_24hour_time_format = True
    try:
        return str(get_description(cron, options))
    except Exception:  # cron_descriptor's own errors: no words, the cron says it
        return ""


def cron_of(schedule: str) -> str | None:
    """The cron expression of a schedule (None: one only Airflow can run)."""
    return PRESETS[schedule] if schedule in PRESETS else schedule


def fire_times(schedule: str, after: datetime | None = None,
               count: int = 2, tz: str | None = None) -> list[datetime]:
    """The schedule's next ``count`` ticks after ``after`` (none for ``@once`` and
    ``@continuous``); ``NeverFires`` when it has none within ``MAX_YEARS_APART`` years of the
    previous one, ``BadInput`` when it is not a schedule at all (a row stored by hand)."""
    from croniter import croniter

    cron = cron_of(schedule)
    if cron is None:
        return []
    start = (after or datetime.now(timezone.utc)).astimezone(zone(tz))
    try:
        it = croniter(cron, start, max_years_between_matches=MAX_YEARS_APART)
        times = [t.astimezone(timezone.utc)
                 for _, t in zip(range(count), it.all_next(datetime))]
    except (ValueError, KeyError, TypeError) as exc:  # croniter's errors are ValueErrors
        raise BadInput(f"{schedule!r} is not a schedule: {exc}") from None
    if not times:
        raise NeverFires(f"{schedule!r} never fires: no date matches it (checked "
                         f"{MAX_YEARS_APART} years ahead)")
    if len(times) < count:
        raise NeverFires(f"{schedule!r} fires on {times[-1]:%Y-%m-%d %H:%M} UTC, then not "
                         f"again for more than {MAX_YEARS_APART} years")
    return times


def next_fire(schedule: str, after: datetime | None = None,
              tz: str | None = None) -> datetime | None:
    """The schedule's next tick after ``after`` (None for ``@once`` and ``@continuous``);
    ``BadInput`` (``NeverFires``) when it has none."""
    times = fire_times(schedule, after, count=1, tz=tz)
    return times[0] if times else None


def last_fire(schedule: str, before: datetime, tz: str | None = None) -> datetime | None:
    """The schedule's latest tick at or before ``before`` (None: Airflow-only or none), UTC."""
    from croniter import croniter

    cron = cron_of(schedule)
    if cron is None:
        return None
    try:
        return croniter(cron, before.astimezone(zone(tz)),
                        max_years_between_matches=MAX_YEARS_APART) \
            .get_prev(datetime).astimezone(timezone.utc)
    except (ValueError, KeyError, TypeError) as exc:
        raise NeverFires(f"{schedule!r} has no past tick: {exc}") from None
