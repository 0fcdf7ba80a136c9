"""Step 5 as data: review cadences and their computed dates, drift triggers a program can
evaluate, external triggers naming AI systems, sunset rules; their checks, pages, files and the
upgrade of documents written before them."""

from __future__ import annotations

import copy
import csv
import datetime
import io
import json
from decimal import Decimal

import icalendar
import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from escalation import formatting
from escalation.artifacts import review_cycle_protocol, sections
from escalation.checks import run_checks
from escalation.demo_framework import fill_demo_framework
from escalation.diff import diff_documents
from escalation.document import build_document, document_sha256, upgrade_document
from escalation.document_reader import read_document
from escalation.method_defaults import apply_method_defaults
from escalation.models import (
    AISystem,
    DriftTrigger,
    EscalationLevel,
    ExternalTrigger,
    FrameworkVersion,
    ReviewCadence,
    SunsetRule,
)
from escalation.pdf import pack_html
from escalation.presentation import readable_sections
from escalation.schedule import is_working_day, nth_weekday, review_dates
from escalation.versions import stored_hash_matches
from workshops.packs import artifact_source, pack_context

END = datetime.date(2026, 11, 13)
SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# The dates: a pure function of the cadence and the holidays.


def cadence(**fields):
    return {
        "frequency": "monthly",
        "day_rule": "same_day",
        "ordinal": None,
        "weekday": None,
        "day_of_month": None,
        "first_date": "2027-01-01",
        "shift": "next_working_day",
        **fields,
    }


def test_the_first_tuesday_of_each_month():
    dates = review_dates(cadence(day_rule="nth_weekday", ordinal=1, weekday=1), count=3)
    assert dates == [
        datetime.date(2027, 1, 5),
        datetime.date(2027, 2, 2),
        datetime.date(2027, 3, 2),
    ]


def test_a_date_on_a_holiday_moves_to_the_next_working_day():
    rule = cadence(day_rule="nth_weekday", ordinal=1, weekday=1)
    assert review_dates(rule, [datetime.date(2027, 1, 5)], count=1) == [datetime.date(2027, 1, 6)]


def test_a_date_on_a_weekend_moves_back_when_the_rule_says_so():
    # 31 Jan 2027 is a Sunday.
    rule = cadence(first_date="2027-01-31", shift="previous_working_day")
    assert review_dates(rule, count=1) == [datetime.date(2027, 1, 29)]


def test_the_31st_is_the_last_day_of_shorter_months():
    rule = cadence(day_rule="day_of_month", day_of_month=31, shift="none")
    assert review_dates(rule, count=2) == [datetime.date(2027, 1, 31), datetime.date(2027, 2, 28)]


def test_a_cadence_without_a_first_date_has_no_dates():
    assert review_dates(cadence(first_date=None)) == []


rules = st.fixed_dictionaries(
    {
        "frequency": st.sampled_from(["weekly", "monthly", "quarterly", "half_yearly", "yearly"]),
        "day_rule": st.sampled_from(["same_day", "nth_weekday", "day_of_month"]),
        "ordinal": st.sampled_from([1, 2, 3, 4, -1]),
        "weekday": st.integers(0, 4),
        "day_of_month": st.integers(1, 31),
        "first_date": st.dates(datetime.date(2026, 1, 1), datetime.date(2030, 12, 31)),
        "shift": st.sampled_from(["next_working_day", "previous_working_day"]),
    }
)
holiday_lists = st.lists(st.dates(datetime.date(2026, 1, 1), datetime.date(2032, 12, 31)))


def _obeys_the_rule(day: datetime.date, rule: dict) -> bool:
    if rule["day_rule"] == "nth_weekday" and rule["frequency"] != "weekly":
        return day == nth_weekday(day.year, day.month, rule["ordinal"], rule["weekday"])
    if rule["day_rule"] == "nth_weekday":
        return day.weekday() == rule["weekday"]
    return True


@SETTINGS
@given(rule=rules, holidays=holiday_lists)
def test_moved_dates_are_working_days_in_order_and_honour_the_rule(rule, holidays):
    if rule["frequency"] == "weekly" and rule["day_rule"] == "day_of_month":
        rule["day_rule"] = "same_day"
    days_off = set(holidays)
    dates = review_dates(rule, holidays, count=8)
    assert all(is_working_day(day, days_off) for day in dates)
    assert dates == sorted(set(dates)), "in order, never twice the same day"
    unmoved = review_dates({**rule, "shift": "none"}, count=8)
    assert all(_obeys_the_rule(day, rule) for day in unmoved)
    # Each rule date moves to the nearest working day in the rule's direction, and nowhere else.
    step = datetime.timedelta(days=1 if rule["shift"] == "next_working_day" else -1)
    moved = set()
    for day in unmoved:
        while not is_working_day(day, days_off):
            day += step
        moved.add(day)
    shown = [day for day in dates if day <= max(moved)]
    assert shown == sorted(moved)[: len(shown)]


# The sentences.


def test_a_drift_trigger_reads_as_one_sentence():
    sentence = formatting.drift_trigger(
        metric="input_drift_psi",
        comparison="absolute",
        operator="above",
        value=Decimal("0.200000"),
        window=7,
        window_unit="days",
    )
    assert sentence == "PSI of input features above 0.2 over 7 days"


def test_a_change_trigger_names_what_it_compares_with():
    sentence = formatting.drift_trigger(
        metric="quality",
        comparison="change_vs_previous",
        operator="below",
        value=Decimal("-0.05"),
        window=24,
        window_unit="hours",
    )
    assert sentence == "Quality change versus the previous window below -0.05 over 24 hours"


def test_a_trigger_kept_from_free_text_says_it_needs_a_value():
    sentence = formatting.drift_trigger(
        metric="latency",
        comparison="",
        operator="",
        value=None,
        window=30,
        window_unit="days",
        note="p95 doubles",
    )
    assert sentence == "Latency: p95 doubles over 30 days (needs a value)"


def test_a_sunset_rule_reads_as_one_sentence():
    text = formatting.sunset_rule(
        level_names=["Fine-tuning"], after_days=90, improvement=Decimal("0.5000")
    )
    assert text == (
        "Fine-tuning: rolled back when, after 90 days, it has closed less than 50% of the gap "
        "to the threshold"
    )


# Documents written before the review cycle's data.

OLDER_V2_CYCLE = {
    "frequency": "semiannual",
    "first_review_date": "2027-01-31",
    "sunset_criteria": "Retire after two quiet years.",
    "drift_triggers": [
        {
            "key": "quality-bot",
            "ai_system": None,
            "metric": "quality",
            "change": "drops by more than 5 points",
            "window_days": 7,
        }
    ],
    "external_triggers": [
        {"key": "update", "event": "foundation_model_update", "description": "", "response": ""}
    ],
}


@pytest.fixture
def older_document(engagement):
    """The demo framework as a v2 document was written before cadences and drift data."""
    fill_demo_framework(engagement.framework, END)
    document = build_document(engagement.framework)
    return {**document, "review_cycle": copy.deepcopy(OLDER_V2_CYCLE)}


def test_an_older_v2_document_reads_with_one_cadence_and_no_loss(older_document):
    cycle = upgrade_document(older_document)["review_cycle"]
    assert [
        (c["name"], c["frequency"], c["first_date"], c["shift"]) for c in cycle["cadences"]
    ] == [("Framework review", "half_yearly", "2027-01-31", "none")]
    assert cycle["drift_triggers"][0] | {"key": "quality-bot"} == {
        "key": "quality-bot",
        "ai_system": None,
        "metric": "quality",
        "comparison": "",
        "operator": "",
        "value": None,
        "window": 7,
        "window_unit": "days",
        "note": "drops by more than 5 points",
    }
    assert cycle["external_triggers"][0]["ai_systems"] == [] and cycle["sunset_rules"] == []


def test_upgrading_keeps_the_old_dates(older_document):
    (framework_review,) = review_cycle_protocol(upgrade_document(older_document))["cadences"]
    assert framework_review["dates"][:2] == [datetime.date(2027, 1, 31), datetime.date(2027, 7, 31)]


def test_an_older_frozen_version_keeps_its_hash_renders_and_diffs(engagement, older_document):
    version = FrameworkVersion.objects.create(
        framework=engagement.framework,
        number=1,
        document=older_document,
        sha256=document_sha256(older_document),
    )
    rendered = sections(version.document)["protocol"]
    readable_sections(version.document)
    changes = {
        item.anchor: item.change
        for section in diff_documents(version.document, build_document(engagement.framework))
        for item in section.items
    }
    version.refresh_from_db()
    assert stored_hash_matches(version)
    assert rendered["drift_triggers"][0]["needs_value"]
    assert changes["cadences/framework-review"] == "changed"
    assert changes["cadences/operational-review"] == "added"


def test_an_older_frozen_version_renders_on_the_artifacts_page(
    client, observer, engagement, older_document
):
    FrameworkVersion.objects.create(
        framework=engagement.framework,
        number=1,
        document=older_document,
        sha256=document_sha256(older_document),
    )
    client.force_login(observer)
    html = client.get(reverse("version_artifacts", args=[engagement.slug, 1])).content.decode()
    assert "Quality: drops by more than 5 points over 7 days (needs a value)" in html
    assert "Half-yearly, on the first date&#x27;s day, from 31 Jan 2027" in html


def test_an_imported_text_trigger_is_named_by_a_check(older_document):
    framework = read_document(json.loads(json.dumps(older_document)))
    assert (
        "The drift trigger “drops by more than 5 points” is text only: give it a "
        "comparison, operator and value." in [p.message for p in run_checks(framework)]
    )


# Checks, through the checks page: one firing and one silent case each.


def _checks_html(client, facilitator, engagement):
    client.force_login(facilitator)
    return client.get(reverse("checks", args=[engagement.slug])).content.decode()


@pytest.fixture
def demo(engagement):
    fill_demo_framework(engagement.framework, END)
    return engagement


def test_a_text_only_drift_trigger_is_flagged(client, facilitator, demo):
    message = (
        "The drift trigger “p95 doubles” is text only: give it a comparison, operator and value."
    )
    assert message not in _checks_html(client, facilitator, demo)
    DriftTrigger.objects.filter(metric="error_rate").update(
        comparison="", operator="", value=None, note="p95 doubles"
    )
    assert message in _checks_html(client, facilitator, demo)


def test_a_vendor_trigger_naming_other_systems_leaves_a_hosted_one_uncovered(
    client, facilitator, demo
):
    message = (
        "Document-extraction pipeline is hosted by Anthropic, but no model-update or deprecation "
        "trigger covers it."
    )
    assert message not in _checks_html(client, facilitator, demo)
    ExternalTrigger.objects.filter(event="model_deprecation").delete()
    update = ExternalTrigger.objects.get(event="foundation_model_update")
    update.ai_systems.set(AISystem.objects.filter(key="support-assistant"))
    assert message in _checks_html(client, facilitator, demo).replace("&amp;", "&")


def test_an_ai_system_without_a_drift_trigger_is_flagged(client, facilitator, demo):
    message = "Document-extraction pipeline has no drift trigger."
    assert message not in _checks_html(client, facilitator, demo)
    DriftTrigger.objects.filter(ai_system=None).delete()
    DriftTrigger.objects.filter(ai_system__key="document-extraction").delete()
    assert message in _checks_html(client, facilitator, demo)


def test_review_dates_on_the_engagements_holidays_are_flagged_when_not_moved(
    client, facilitator, demo
):
    cadence = ReviewCadence.objects.get(name="Operational review")
    first_tuesday = review_dates(
        {
            "day_rule": "nth_weekday",
            "ordinal": 1,
            "weekday": 1,
            "frequency": "monthly",
            "first_date": cadence.first_date,
        }
    )[0]
    demo.holidays = [first_tuesday]
    demo.save()
    assert "falls on days off" not in _checks_html(client, facilitator, demo)
    ReviewCadence.objects.filter(pk=cadence.pk).update(shift="none")
    assert f"{formatting.date(first_tuesday)} (Tuesday)" in _checks_html(client, facilitator, demo)


# Where the schedule shows.


def test_the_review_step_lists_each_cadences_next_dates(client, facilitator, demo):
    client.force_login(facilitator)
    html = client.get(reverse("step", args=[demo.slug, "review-cycle"])).content.decode()
    first = ReviewCadence.objects.get(name="Operational review").first_date
    first_tuesday = review_dates(
        {
            "day_rule": "nth_weekday",
            "ordinal": 1,
            "weekday": 1,
            "frequency": "monthly",
            "first_date": first,
        }
    )[0]
    assert "<dt>Operational review</dt>" in html and first_tuesday.isoformat() in html


def test_the_artifacts_show_cadences_triggers_and_sunset_rules(client, observer, demo):
    client.force_login(observer)
    html = client.get(reverse("artifacts", args=[demo.slug])).content.decode()
    for text in [
        "Monthly, on the first Tuesday of the month",
        "PSI of input features above 0.2 over 7 days",
        "Customer-support assistant, Document-extraction pipeline",
        "Fine-tuning, Hybrid routing: rolled back when, after 90 days",
    ]:
        assert text in html


def test_the_pack_prints_the_schedule_moved_off_the_engagements_holidays(demo):
    first = ReviewCadence.objects.get(name="Operational review").first_date
    rule = {"day_rule": "nth_weekday", "ordinal": 1, "weekday": 1, "frequency": "monthly"}
    first_tuesday = review_dates({**rule, "first_date": first})[0]
    demo.holidays = [first_tuesday]
    demo.save()
    source = artifact_source(demo, None)
    html = pack_html(source.document, pack_context(source))
    assert formatting.date(first_tuesday + datetime.timedelta(days=1)) in html
    assert "Annual re-approval" in html and "PSI of input features above 0.2" in html


def test_the_calendar_holds_every_cadence_moved_off_holidays(client, reviewer, demo):
    first = ReviewCadence.objects.get(name="Operational review").first_date
    rule = {"day_rule": "nth_weekday", "ordinal": 1, "weekday": 1, "frequency": "monthly"}
    first_tuesday = review_dates({**rule, "first_date": first})[0]
    demo.holidays = [first_tuesday]
    demo.save()
    client.force_login(reviewer)
    ics = client.get(reverse("review_cycle_ics", args=[demo.slug])).content
    events = icalendar.Calendar.from_ical(ics).walk("VEVENT")
    summaries = {str(event["summary"]).rsplit(" ", 1)[0] for event in events}
    starts = [event.decoded("dtstart") for event in events]
    assert {s.split(": ", 1)[1] for s in summaries} == {
        "Operational review",
        "Framework review",
        "Annual re-approval",
    }
    assert first_tuesday not in starts and first_tuesday + datetime.timedelta(days=1) in starts


def test_the_review_protocol_csv_lists_cadences_triggers_and_rules(client, reviewer, demo):
    client.force_login(reviewer)
    text = client.get(reverse("review_cycle_csv", args=[demo.slug])).content.decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    kinds = {row["Kind"] for row in rows}
    psi = next(row for row in rows if row["Rule"].startswith("PSI"))
    assert kinds == {
        "Scheduled review",
        "Drift trigger",
        "External trigger",
        "Sunset rule",
        "Sunset criteria",
    }
    assert (psi["Name or AI systems"], psi["Rule"]) == (
        "Every AI system",
        "PSI of input features above 0.2 over 7 days",
    )


# The review-cycle step's editors (embedded in the day pages).


def _add(client, engagement, collection, data):
    url = reverse("step_item_add", args=[engagement.slug, "review-cycle", collection])
    return client.post(url, data)


def test_facilitator_adds_a_monthly_review_on_the_first_tuesday(client, facilitator, engagement):
    client.force_login(facilitator)
    data = {
        "name": "Operational review",
        "frequency": "monthly",
        "day_rule": "nth_weekday",
        "ordinal": "1",
        "weekday": "1",
        "first_date": "2027-01-01",
        "shift": "next_working_day",
    }
    assert _add(client, engagement, "cadences", data).status_code == 302
    html = client.get(reverse("step", args=[engagement.slug, "review-cycle"])).content.decode()
    assert 'datetime="2027-01-05"' in html


def test_facilitator_adds_a_psi_drift_trigger_and_a_vendor_update_naming_a_system(
    client, facilitator, engagement
):
    system = AISystem.objects.create(
        framework=engagement.framework, key="bot", name="Bot", vendor="OpenAI", model_name="m"
    )
    client.force_login(facilitator)
    drift = {
        "metric": "input_drift_psi",
        "comparison": "absolute",
        "operator": "above",
        "value": "0.2",
        "window": "7",
        "window_unit": "days",
    }
    update = {"event": "foundation_model_update", "ai_systems": [system.pk]}
    assert _add(client, engagement, "drift-triggers", drift).status_code == 302
    assert _add(client, engagement, "external-triggers", update).status_code == 302
    assert str(DriftTrigger.objects.get()) == "PSI of input features above 0.2 over 7 days"
    assert list(ExternalTrigger.objects.get().ai_systems.all()) == [system]


def test_a_sunset_rule_needs_an_improvement_between_0_and_1(client, facilitator, engagement):
    apply_method_defaults(engagement.framework)
    level = EscalationLevel.objects.get(framework=engagement.framework, kind="fine_tuning")
    client.force_login(facilitator)
    data = {"levels": [level.pk], "after_days": "90", "required_improvement": "1.5"}
    assert _add(client, engagement, "sunset-rules", data).status_code == 422
    data["required_improvement"] = "0.5"
    assert _add(client, engagement, "sunset-rules", data).status_code == 302
    assert SunsetRule.objects.get().required_improvement == Decimal("0.5")
