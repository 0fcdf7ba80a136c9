"""Migrating an existing database to the review cycle's data: a framework's one review frequency
becomes one cadence with the same dates, a drift trigger's free text becomes its note."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("escalation", "0010_governance")]
AFTER = [("escalation", "0011_review_cycle")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_the_review_frequency_becomes_a_cadence_and_drift_text_a_note():
    old = _migrate(BEFORE)
    framework = old.get_model("escalation", "Framework").objects.create(
        name="Old", review_frequency="semiannual", first_review_date=datetime.date(2027, 1, 31)
    )
    old.get_model("escalation", "DriftTrigger").objects.create(
        framework=framework,
        key="quality",
        metric="quality",
        change="drops 5 points",
        window_days=14,
    )
    new = _migrate(AFTER)
    try:
        cadence = new.get_model("escalation", "ReviewCadence").objects.get()
        trigger = new.get_model("escalation", "DriftTrigger").objects.get()
        assert (cadence.name, cadence.frequency, cadence.first_date, cadence.shift) == (
            "Framework review",
            "half_yearly",
            datetime.date(2027, 1, 31),
            "none",
        )
        assert (trigger.note, trigger.value, trigger.window, trigger.window_unit) == (
            "drops 5 points",
            None,
            14,
            "days",
        )
    finally:  # leave the test database fully migrated for the tests after this one
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
