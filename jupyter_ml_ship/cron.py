"""Schedules as written: cron expressions (five fields, UTC) and Airflow's presets."""

from __future__ import annotations

import re
from typing import Any

from .errors import BadInput

#: Airflow's presets and their cron form; ``@once`` and ``@continuous`` have none (Airflow only)
PRESETS: dict[str, str | None] = {
    "@hourly": "0 * * * *", "@daily": "0 0 * * *", "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *", "@quarterly": "0 0 1 */3 *", "@yearly": "0 0 1 1 *",
    "@once": None, "@continuous": None,
}
_CRON_FIELD = re.compile(r"^[0-9A-Za-z*/,?#LW-]+$")


def check_schedule(value: Any, where: str) -> str | None:
    """A schedule with its spaces normalised, or ``BadInput`` saying what is wrong and where."""
    from croniter import croniter

    if value is None:
        return None
    fields = str(value).split() if isinstance(value, str) else []
    text = " ".join(fields)
    if (len(fields) == 1 and text in PRESETS) or (
            len(fields) == 5 and all(_CRON_FIELD.match(f) for f in fields)
            and croniter.is_valid(text)):
        return text
    raise BadInput(f"{where}: {value!r} is not a schedule: write a cron expression such as "
                   f"'0 6 * * *' (minute hour day month weekday, UTC) or one of "
                   f"{', '.join(PRESETS)}")


def cron_of(schedule: str) -> str | None:
    """The cron expression of a schedule (None: one only Airflow can run)."""
    return PRESETS[schedule] if schedule in PRESETS else schedule
