"""One format per kind of value (escalation.formatting), the same on pages, in CSV files, in the
diagram and in the PDF pack."""

import datetime
from decimal import Decimal

from django.template import engines
from django.template.loader import render_to_string

from escalation import formatting
from escalation.artifacts import ladder, register_csv, sections
from escalation.diagram import ladder_dot
from escalation.document import upgrade_document


def test_money_leads_with_the_currency_and_shows_cents_only_when_there_are_some():
    assert formatting.money(Decimal("500000.00"), "EUR") == "EUR 500,000"
    assert formatting.money("1250.5", "USD") == "USD 1,250.50"


def test_percentages_drop_trailing_zeros_and_take_no_space():
    assert formatting.percent(Decimal("2.50")) == "2.5%"
    assert formatting.percent(100) == "100%"


def test_durations_and_dates_read_in_words():
    assert formatting.days(1) == "1 day"
    assert formatting.days(10, signed=True) == "+10 days"
    assert (
        formatting.date("2027-03-01") == formatting.date(datetime.date(2027, 3, 1)) == "1 Mar 2027"
    )


def test_a_moment_on_a_page_reads_as_djangos_date_format_in_the_active_zone():
    moments = [
        datetime.datetime(2026, month, 1, 23, 5, tzinfo=datetime.UTC) for month in range(1, 13)
    ]
    template = "{% load formatting tz %}{% timezone 'Asia/Tokyo' %}{% for m in moments %}"
    fast, django = (
        engines["django"].from_string(
            f"{template}{{{{ m|{date} }}}};{{% endfor %}}{{% endtimezone %}}"
        )
        for date in ("date_time", 'date:"j M Y, H:i"')
    )
    assert fast.render({"moments": moments}) == django.render({"moments": moments})
    assert fast.render({"moments": moments[:1]}) == "2 Jan 2026, 08:05;"


def test_nothing_reads_as_one_dash_whatever_the_kind_of_value():
    empties = {formatting.money(None, "EUR"), formatting.days(None), formatting.or_empty("")}
    assert empties == {formatting.EMPTY}


LEVEL = {
    "key": "tune",
    "name": "Fine-tuning",
    "trigger": "",
    "trigger_thresholds": [],
    "approval_owner_name": "Dana Lead",
    "approval_owner_role": "CTO",
    "currency": "EUR",
    "cost_ceiling": "500000.00",
    "estimated_cost_delta": "120000.00",
    "timeline_delta_days": 30,
}
THRESHOLD = {
    "key": "bot-all",
    "ai_system": "bot",
    "output_type": "",
    "quality_metric": "groundedness",
    "quality_floor": "85.00",
    "error_rate_ceiling_pct": "2.50",
    "latency_percentile": "p95",
    "latency_limit_ms": 1200,
    "throughput_floor_rpm": 60,
    "confidence_minimum": "0.800",
    "measurement_window_hours": 24,
    "trigger_breaches": 3,
    "trigger_windows": 5,
}
DOCUMENT = {  # version 1, upgraded as it is read
    "schema_version": 1,
    "name": "Acme",
    "ai_systems": [{"key": "bot", "name": "Bot"}],
    "thresholds": [THRESHOLD],
    "levels": [{**LEVEL, "trigger_thresholds": ["bot-all"]}],
}


def test_the_ladder_artifact_and_the_diagram_print_money_and_owner_alike():
    row, dot = ladder(upgrade_document(DOCUMENT))[0], ladder_dot(DOCUMENT)
    assert row["estimated_cost"] == "EUR 120,000 one-off" and "EUR 120,000 one-off" in dot
    assert row["approval_owner"] == "Dana Lead (CTO)" and "Dana Lead (CTO)" in dot


def test_the_register_csv_and_the_diagram_write_the_trigger_rule_in_the_same_words():
    rule = "Breached in 3 of the last 5 24-hour windows"
    assert rule in register_csv(DOCUMENT)
    assert rule in ladder_dot(DOCUMENT).replace('<BR ALIGN="LEFT"/>', " ")


def test_the_governance_section_prints_money_and_the_group_in_its_own_column():
    level = {**LEVEL, "approval_rule": "all_of_group", "approval_group": "Risk board"}
    row = ladder(upgrade_document({**DOCUMENT, "levels": [level]}))[0]
    html = render_to_string("escalation/artifacts/governance.html", sections(DOCUMENT))
    assert row["approval_owner"] == "Dana Lead (CTO)" and row["approval_group"] == "Risk board"
    assert "EUR 500,000 one-off" in html and "30 working days" in html


def test_the_systems_section_heads_columns_with_field_labels_and_dashes_what_is_missing():
    html = render_to_string("escalation/artifacts/systems.html", sections(DOCUMENT))
    assert '<th scope="col">Business owner</th>' in html
    assert f"<td>{formatting.EMPTY}</td>" in html
