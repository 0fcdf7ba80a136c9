"""Migrating an existing database to bounds: every fixed column of an old threshold becomes a bound
of that threshold, escalating to the levels that listed it, and the old columns are gone."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("escalation", "0005_evidence_triggers"), ("workshops", "0004_anchor")]
AFTER = [("escalation", "0007_remove_fixed_threshold_columns")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_each_old_threshold_column_becomes_a_bound_escalating_where_the_threshold_did():
    old = _migrate(BEFORE)
    framework = old.get_model("escalation", "Framework").objects.create(name="Old")
    system = old.get_model("escalation", "AISystem").objects.create(
        framework=framework, key="bot", name="Bot", model_name="m", workflow="w"
    )
    threshold = old.get_model("escalation", "Threshold").objects.create(
        framework=framework,
        key="bot-all",
        ai_system=system,
        quality_metric="groundedness",
        quality_floor=Decimal("85.00"),
        error_rate_ceiling_pct=Decimal("2.50"),
        latency_percentile="p99",
        latency_limit_ms=8000,
        throughput_floor_rpm=0,
        confidence_minimum=Decimal("0.700"),
    )
    level = old.get_model("escalation", "EscalationLevel").objects.create(
        framework=framework, key="prompt", name="Prompt"
    )
    level.trigger_thresholds.add(threshold)

    new = _migrate(AFTER)
    Bound = new.get_model("escalation", "Bound")
    try:
        _check_bounds(Bound)
    finally:  # leave the test database fully migrated for the tests after this one
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


def _check_bounds(Bound):
    bounds = {bound.metric_kind: bound for bound in Bound.objects.prefetch_related("escalates_to")}
    assert {kind: (b.direction, b.value, b.unit) for kind, b in bounds.items()} == {
        "quality": ("at_least", Decimal("85"), "score"),
        "error_rate": ("at_most", Decimal("2.5"), "percent"),
        "latency": ("at_most", Decimal("8000"), "ms"),
        "throughput": ("at_least", Decimal("0"), "per_minute"),
        "confidence": ("at_least", Decimal("0.7"), "ratio"),
    }
    assert (bounds["quality"].metric_name, bounds["latency"].percentile) == ("groundedness", "p99")
    assert all([lv.key for lv in b.escalates_to.all()] == ["prompt"] for b in bounds.values())
    columns = {
        c.name
        for c in connection.introspection.get_table_description(
            connection.cursor(), "escalation_threshold"
        )
    }
    assert "quality_floor" not in columns
