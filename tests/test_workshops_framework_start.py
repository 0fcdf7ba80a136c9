"""Where a new engagement's framework comes from: the method's defaults, or last cycle's copy."""

from decimal import Decimal

from escalation.copying import copy_framework
from escalation.method_defaults import apply_method_defaults
from escalation.models import (
    AISystem,
    DriftMetric,
    DriftTrigger,
    EscalationLevel,
    ExternalTrigger,
    FailureKind,
    FailureMode,
    LevelKind,
    ReviewCadence,
    SunsetRule,
)
from tests.framework_content import make_framework


def test_defaults_are_the_five_failure_kinds_and_six_levels_in_ladder_order(db):
    framework = make_framework()
    apply_method_defaults(framework)
    kinds = list(EscalationLevel.objects.filter(framework=framework).values_list("kind", flat=True))
    assert kinds == [kind for kind in LevelKind.values if kind != LevelKind.CUSTOM]
    assert FailureMode.objects.filter(framework=framework).count() == len(FailureKind.values) - 1


def test_defaults_map_each_failure_kind_to_a_starting_level(db):
    framework = make_framework()
    apply_method_defaults(framework)
    hallucination = FailureMode.objects.get(framework=framework, kind=FailureKind.HALLUCINATION)
    assert hallucination.recommended_level.kind == LevelKind.RETRIEVAL_AUGMENTATION


def test_applying_defaults_twice_adds_nothing(db):
    framework = make_framework()
    apply_method_defaults(framework)
    apply_method_defaults(framework)
    assert EscalationLevel.objects.filter(framework=framework).count() == 6
    assert ExternalTrigger.objects.filter(framework=framework).count() == 4


def test_copy_keeps_review_triggers_and_points_them_at_the_copied_systems(db):
    source = make_framework(sunset_criteria="Retire after two quiet years.")
    system = AISystem.objects.create(
        framework=source, key="bot", name="Bot", model_name="m", workflow="w"
    )
    DriftTrigger.objects.create(
        framework=source,
        key="quality-drop",
        ai_system=system,
        metric=DriftMetric.QUALITY,
        comparison="change_vs_previous",
        operator="below",
        value=Decimal("-5"),
    )
    ExternalTrigger.objects.create(
        framework=source, key="update", event="foundation_model_update"
    ).ai_systems.set([system])
    copy = copy_framework(source)
    drift = DriftTrigger.objects.get(framework=copy)
    assert drift.ai_system.framework == copy
    assert drift.carried_over == {
        "key": "quality-drop",
        "ai_system": "bot",
        "metric": "quality",
        "comparison": "change_vs_previous",
        "operator": "below",
        "value": "-5.000000",
        "window": 7,
        "window_unit": "days",
        "note": "",
    }
    external = ExternalTrigger.objects.get(framework=copy)
    assert [s.framework for s in external.ai_systems.all()] == [copy]
    assert copy.sunset_criteria == "Retire after two quiet years."


def test_copy_keeps_the_review_schedule_and_sunset_rules(db):
    source = make_framework()
    apply_method_defaults(source)
    rule = SunsetRule.objects.create(
        framework=source, key="sunset", after_days=90, required_improvement=Decimal("0.5")
    )
    rule.levels.set(EscalationLevel.objects.filter(framework=source, kind="fine_tuning"))
    copy = copy_framework(source)
    assert [c.name for c in ReviewCadence.objects.filter(framework=copy)] == ["Framework review"]
    copied = SunsetRule.objects.get(framework=copy)
    assert [level.framework for level in copied.levels.all()] == [copy]


def test_copy_leaves_the_source_untouched(db):
    source = make_framework()
    apply_method_defaults(source)
    copy_framework(source)
    assert EscalationLevel.objects.filter(framework=source, carried_over__isnull=False).count() == 0
