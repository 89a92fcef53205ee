"""The emulator's maintenance-window evaluation (tests/armemu/maintenance.py) against cases worked out by hand from
the MaintenanceWindow model's descriptions, the AKS planned-maintenance docs and Azure/AKS issue 5720 (plain
functions: no emulator process)."""
from __future__ import annotations

import datetime

import pytest

from tests.armemu.maintenance import window_open


def at(text: str) -> datetime.datetime:
    """An aware UTC instant from "YYYY-MM-DDTHH:MM"."""
    return datetime.datetime.fromisoformat(text).replace(tzinfo=datetime.UTC)


def window(schedule: dict, **fields) -> dict:
    return {"schedule": schedule, "durationHours": 4, "startTime": "02:00", "utcOffset": "+00:00",
            "startDate": "2026-01-01", **fields}


DAILY = {"daily": {"intervalDays": 1}}


@pytest.mark.parametrize(("now", "is_open"), [
    ("2026-06-10T01:59", False), ("2026-06-10T02:00", True), ("2026-06-10T05:59", True), ("2026-06-10T06:00", False),
])
def test_daily_window_spans_start_time_plus_duration(now, is_open):
    assert window_open(window(DAILY), at(now)) is is_open


@pytest.mark.parametrize(("day", "is_open"), [
    ("2026-06-01", True), ("2026-06-02", False), ("2026-06-03", False), ("2026-06-04", True), ("2026-06-07", True),
])
def test_daily_interval_counts_from_the_start_date(day, is_open):
    w = window({"daily": {"intervalDays": 3}}, startDate="2026-06-01")
    assert window_open(w, at(f"{day}T03:00")) is is_open


@pytest.mark.parametrize(("day", "is_open"), [
    ("2026-04-19", False),  # the Sunday after a Tuesday start date: skipped (Azure/AKS issue 5720)
    ("2026-04-26", True), ("2026-05-03", False), ("2026-05-10", True), ("2026-04-21", False),
])
def test_weekly_interval_counts_calendar_weeks_from_the_start_dates_week(day, is_open):
    w = window({"weekly": {"intervalWeeks": 2, "dayOfWeek": "Sunday"}}, startDate="2026-04-14")
    assert window_open(w, at(f"{day}T03:00")) is is_open


def test_weekly_occurrence_that_runs_past_midnight_is_open_the_next_morning():
    w = window({"weekly": {"intervalWeeks": 1, "dayOfWeek": "Saturday"}}, startTime="22:00", durationHours=6)
    assert window_open(w, at("2026-06-13T23:00"))  # Saturday
    assert window_open(w, at("2026-06-14T03:59"))  # Sunday, within the 6 hours
    assert not window_open(w, at("2026-06-14T04:00"))
    assert not window_open(w, at("2026-06-13T21:59"))


@pytest.mark.parametrize(("offset", "now", "is_open"), [
    ("+05:30", "2026-06-09T20:30", True),   # 02:00 local on the 10th
    ("+05:30", "2026-06-10T02:00", False),  # 07:30 local
    ("-07:00", "2026-06-10T09:00", True),   # 02:00 local
    ("-07:00", "2026-06-10T02:00", False),  # 19:00 local on the 9th
])
def test_utc_offset_applies_to_the_start_time(offset, now, is_open):
    assert window_open(window(DAILY, utcOffset=offset), at(now)) is is_open


@pytest.mark.parametrize(("day", "is_open"), [
    ("2026-01-15", True), ("2026-02-15", False), ("2026-03-15", True), ("2026-05-15", True), ("2026-03-16", False),
])
def test_absolute_monthly_every_two_months_from_the_start_month(day, is_open):
    w = window({"absoluteMonthly": {"intervalMonths": 2, "dayOfMonth": 15}}, startDate="2026-01-10")
    assert window_open(w, at(f"{day}T03:00")) is is_open


def test_absolute_monthly_day_a_month_lacks_is_no_occurrence():
    w = window({"absoluteMonthly": {"intervalMonths": 1, "dayOfMonth": 31}})
    assert not window_open(w, at("2026-04-30T03:00"))
    assert window_open(w, at("2026-05-31T03:00"))


@pytest.mark.parametrize(("index", "weekday", "day"), [
    ("First", "Monday", "2026-06-01"), ("Third", "Wednesday", "2026-06-17"), ("Fourth", "Monday", "2026-06-22"),
    ("Last", "Friday", "2026-06-26"), ("Last", "Tuesday", "2026-06-30"),
])
def test_relative_monthly_picks_the_nth_or_last_weekday(index, weekday, day):
    w = window({"relativeMonthly": {"intervalMonths": 1, "weekIndex": index, "dayOfWeek": weekday}})
    assert window_open(w, at(f"{day}T03:00"))
    other = (datetime.date.fromisoformat(day) - datetime.timedelta(days=7)).isoformat()
    assert not window_open(w, at(f"{other}T03:00"))  # the same weekday a week earlier is another instance


def test_not_allowed_dates_are_local_dates_with_both_ends_included():
    # the model's own example: +02:00 and 2026-12-23..2027-01-03 block 2026-12-22 22:00 to 2027-01-03 22:00 UTC
    w = window({"daily": {"intervalDays": 1}}, startTime="00:00", durationHours=24, utcOffset="+02:00",
               notAllowedDates=[{"start": "2026-12-23", "end": "2027-01-03"}])
    assert window_open(w, at("2026-12-22T21:59"))
    assert not window_open(w, at("2026-12-22T22:00"))
    assert not window_open(w, at("2027-01-03T21:59"))
    assert window_open(w, at("2027-01-03T22:00"))


def test_before_the_start_date_the_window_is_inactive_and_without_one_active_at_once():
    assert not window_open(window(DAILY, startDate="2026-07-01"), at("2026-06-30T03:00"))
    assert window_open(window(DAILY, startDate="2026-07-01"), at("2026-07-01T03:00"))
    no_start = {k: v for k, v in window(DAILY, startTime="23:00").items() if k != "startDate"}
    assert window_open(no_start, at("2026-06-10T23:30"))
    assert window_open(no_start, at("2026-06-11T01:00"))  # the occurrence begun the evening before


def test_an_empty_or_unknown_schedule_never_opens():
    assert not window_open(window({}), at("2026-06-10T03:00"))
    assert not window_open(window({"hourly": {"interval": 1}}), at("2026-06-10T03:00"))
