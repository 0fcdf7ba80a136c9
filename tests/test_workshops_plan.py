"""The ten-day plan: working days on the calendar, and the method's sequence folded into them."""

import datetime

import pytest

from escalation.steps import STEPS
from workshops.models import Engagement
from workshops.plan import (
    TEMPLATE_DAYS,
    build_plan,
    current_day_number,
    fold_template_days,
    step_url,
    working_dates,
)

MONDAY = datetime.date(2026, 11, 2)


def test_ten_days_from_a_monday_skip_both_weekends():
    dates = working_dates(MONDAY, 10)
    assert dates[4] == datetime.date(2026, 11, 6)
    assert dates[5] == datetime.date(2026, 11, 9)
    assert all(day.weekday() < 5 for day in dates)


def test_holidays_are_skipped():
    holiday = datetime.date(2026, 11, 4)
    dates = working_dates(MONDAY, 5, holidays=[holiday])
    assert holiday not in dates
    assert dates[-1] == datetime.date(2026, 11, 9)


def test_a_start_on_a_saturday_begins_on_monday():
    assert working_dates(datetime.date(2026, 11, 7), 5)[0] == datetime.date(2026, 11, 9)


def test_dates_are_right_across_a_month_end():
    plan = build_plan(datetime.date(2026, 11, 26), 10)
    assert [day.date.isoformat() for day in plan] == [
        "2026-11-26",
        "2026-11-27",
        "2026-11-30",
        "2026-12-01",
        "2026-12-02",
        "2026-12-03",
        "2026-12-04",
        "2026-12-07",
        "2026-12-08",
        "2026-12-09",
    ]


def test_dates_are_right_across_a_year_end_with_holidays():
    holidays = [datetime.date(2026, 12, 25), datetime.date(2027, 1, 1)]
    plan = build_plan(datetime.date(2026, 12, 24), 5, holidays)
    assert [day.date.isoformat() for day in plan] == [
        "2026-12-24",
        "2026-12-28",
        "2026-12-29",
        "2026-12-30",
        "2026-12-31",
    ]


@pytest.mark.parametrize("length", range(5, 11))
def test_every_length_places_every_step(length):
    placed = {key for day in build_plan(MONDAY, length) for key in day.step_keys}
    assert placed == {step.key for step in STEPS}


@pytest.mark.parametrize("length", range(5, 11))
def test_every_length_keeps_the_whole_sequence_in_order_with_no_empty_day(length):
    folded = fold_template_days(length)
    assert [day.number for days in folded for day in days] == list(range(1, 11))
    assert all(folded)


def test_ten_days_follow_the_method_cadence():
    plan = build_plan(MONDAY, 10)
    first_three = {key for day in plan[:3] for key in day.step_keys}
    days_four_to_seven = {key for day in plan[3:7] for key in day.step_keys}
    last_three = {key for day in plan[7:] for key in day.step_keys}
    assert first_three == {"systems", "thresholds", "failure-modes"}
    assert days_four_to_seven == {"ladder", "governance"}
    assert last_three == {"review-cycle"}


def test_five_days_fold_two_template_days_into_each():
    plan = build_plan(MONDAY, 5)
    assert [len(day.template_days) for day in plan] == [2, 2, 2, 2, 2]
    assert plan[0].agenda == [*TEMPLATE_DAYS[0].agenda, *TEMPLATE_DAYS[1].agenda]


def test_lengths_outside_five_to_ten_are_refused():
    with pytest.raises(ValueError):
        fold_template_days(4)
    with pytest.raises(ValueError):
        fold_template_days(11)


def test_every_template_day_has_agenda_prompts_and_questions():
    assert all(day.agenda and day.prompts and day.questions for day in TEMPLATE_DAYS)


def test_current_day_is_the_last_working_day_reached():
    plan = build_plan(MONDAY, 10)
    assert current_day_number(plan, MONDAY - datetime.timedelta(days=1)) is None
    assert current_day_number(plan, datetime.date(2026, 11, 8)) == 5  # a Sunday
    assert current_day_number(plan, datetime.date(2026, 12, 31)) == 10


def test_step_url_names_the_step_editor():
    assert step_url("acme", "ladder") == "/e/acme/steps/ladder/"


def test_an_engagements_last_working_day_is_its_plans_last_day_past_weekends_and_holidays():
    engagement = Engagement(start_date=MONDAY, working_days=5, holidays=[MONDAY])
    # Monday is a holiday, so five working days end on the next Monday.
    assert engagement.last_working_day() == datetime.date(2026, 11, 9)
    assert engagement.last_working_day() == engagement.plan()[-1].date
