"""When an AKS maintenance window is open: its occurrences, enumerated forward from its start date.

From the MaintenanceWindow model (azure-mgmt-containerservice; REST `Microsoft.ContainerService`
maintenanceConfigurations, property descriptions) and the AKS docs "Use planned maintenance":
- `schedule` holds exactly one of `daily {intervalDays}`, `weekly {intervalWeeks, dayOfWeek}`,
  `absoluteMonthly {intervalMonths, dayOfMonth}`, `relativeMonthly {intervalMonths, weekIndex (First, Second,
  Third, Fourth, Last), dayOfWeek}`.
- `startTime` "HH:mm" and `durationHours` (4 to 24) give each occurrence's span; `utcOffset` "+/-HH:mm" (default
  "+00:00", a fixed offset) applies to startTime, startDate and notAllowedDates.
- `startDate`: before it the window is inactive; without it the window is active right away.
- `notAllowedDates` [{start, end}]: no maintenance on those local dates, both ends included (the model's example:
  with +02:00, 2026-12-23..2027-01-03 blocks 2026-12-22 22:00 to 2027-01-03 22:00 UTC).
- weekly intervals count in calendar weeks from the week (Sunday first) holding startDate; that week's day before
  startDate is skipped (Azure/AKS issue 5720: startDate Tuesday 2026-04-14, every 2 weeks on Sunday, first window
  2026-04-26).
Guesses (not documented): daily and monthly intervals count from startDate's day and month; without startDate,
from yesterday (local, so that an occurrence begun yesterday counts); an absoluteMonthly dayOfMonth a month lacks
(31 in April) is no occurrence that month; an occurrence that began on an allowed date is still cut off once a
not-allowed date begins; an unknown or empty schedule never opens.
"""
from __future__ import annotations

import calendar
import datetime
from collections.abc import Iterator

WEEKDAYS = {name: number for number, name in enumerate(calendar.day_name)}  # Monday = 0 ... Sunday = 6
WEEK_INDEX = {"First": 0, "Second": 1, "Third": 2, "Fourth": 3, "Last": -1}
DEFAULT_DURATION_HOURS = 4


def local_offset(text: str | None) -> datetime.timedelta:
    """"+05:30" -> 5 h 30 min; "-07:00" -> -7 h."""
    text = (text or "+00:00").strip()
    sign = -1 if text.startswith("-") else 1
    hours, _, minutes = text.lstrip("+-").partition(":")
    return sign * datetime.timedelta(hours=int(hours or 0), minutes=int(minutes or 0))


def _add_months(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def _weekday_in_month(year: int, month: int, weekday: int, index: int) -> datetime.date:
    days = [day for day in range(1, calendar.monthrange(year, month)[1] + 1)
            if datetime.date(year, month, day).weekday() == weekday]
    return datetime.date(year, month, days[index])


def occurrence_days(schedule: dict, first: datetime.date) -> Iterator[datetime.date]:
    """The days an occurrence starts on, from `first` (the window's start date) on, in order, without end."""
    if schedule.get("daily") is not None:
        step = datetime.timedelta(days=int(schedule["daily"].get("intervalDays") or 1))
        day = first
        while True:
            yield day
            day += step
    elif schedule.get("weekly") is not None:
        weekly = schedule["weekly"]
        weekday = WEEKDAYS[weekly["dayOfWeek"]]
        week_start = first - datetime.timedelta(days=(first.weekday() + 1) % 7)  # that week's Sunday
        day = week_start + datetime.timedelta(days=(weekday + 1) % 7)
        step = datetime.timedelta(weeks=int(weekly.get("intervalWeeks") or 1))
        while True:
            if day >= first:
                yield day
            day += step
    else:
        kind = "absoluteMonthly" if schedule.get("absoluteMonthly") is not None else "relativeMonthly"
        monthly = schedule.get(kind)
        if monthly is None:
            return
        interval = int(monthly.get("intervalMonths") or 1)
        n = 0
        while True:
            year, month = _add_months(first.year, first.month, n * interval)
            n += 1
            if kind == "absoluteMonthly":
                day_of_month = int(monthly["dayOfMonth"])
                if day_of_month > calendar.monthrange(year, month)[1]:
                    continue
                day = datetime.date(year, month, day_of_month)
            else:
                day = _weekday_in_month(year, month, WEEKDAYS[monthly["dayOfWeek"]], WEEK_INDEX[monthly["weekIndex"]])
            if day >= first:
                yield day


def _not_allowed(window: dict, local_day: datetime.date) -> bool:
    return any(datetime.date.fromisoformat(span["start"]) <= local_day <= datetime.date.fromisoformat(span["end"])
               for span in window.get("notAllowedDates") or [])


def window_open(window: dict, now: datetime.datetime) -> bool:
    """Whether `now` (aware) falls within an occurrence of the maintenance window."""
    local_now = (now.astimezone(datetime.UTC) + local_offset(window.get("utcOffset"))).replace(tzinfo=None)
    if window.get("startDate"):
        first = datetime.date.fromisoformat(window["startDate"])
        if local_now.date() < first:
            return False
    else:  # active right away: an occurrence begun yesterday counts
        first = local_now.date() - datetime.timedelta(days=1)
    if _not_allowed(window, local_now.date()):
        return False
    hour, _, minute = (window.get("startTime") or "00:00").partition(":")
    opens_at = datetime.time(int(hour), int(minute or 0))
    duration = datetime.timedelta(hours=float(window.get("durationHours") or DEFAULT_DURATION_HOURS))
    for day in occurrence_days(window.get("schedule") or {}, first):
        opens = datetime.datetime.combine(day, opens_at)
        if opens > local_now:
            return False
        if local_now < opens + duration:
            return True
    return False
