"""The step forms: one per kind of row, each mirroring the database's constraints with a human
message beside the field, so the database's refusal is never what a facilitator sees."""

from __future__ import annotations

import re
from typing import Any, ClassVar, cast

from django import forms
from django.db import models

from escalation.document import (
    AI_SYSTEM_FIELDS,
    DRIFT_TRIGGER_FIELDS,
    EXTERNAL_TRIGGER_FIELDS,
    FAILURE_MODE_FIELDS,
    GOVERNANCE_FIELDS,
    LADDER_FIELDS,
    THRESHOLD_FIELDS,
    editable_fields,
)
from escalation.models import (
    AISystem,
    ApprovalRule,
    DriftTrigger,
    EscalationLevel,
    ExternalTrigger,
    FailureMode,
    Framework,
    FrameworkItem,
    Threshold,
)
from escalation.text import SafeTextForm

CURRENCY_CODE = re.compile(r"^[A-Z]{3}$")


class ItemForm(SafeTextForm, forms.ModelForm):
    """A framework row: knows its framework, carries the row_version it was loaded at, and
    creates new rows with a free key at the end of the list."""

    row_version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)
    # Where the key of a new row comes from (a field name, or a method returning the text).
    key_source: ClassVar[str] = "name"
    unique_fields: ClassVar[list[str]] = []

    def __init__(self, *args: Any, framework: Framework, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.framework = framework
        self.instance.framework = framework
        if self.instance.pk:
            self.fields["row_version"].required = True
            self.fields["row_version"].initial = self.instance.row_version
        self.stale_current: list[tuple[str, str]] = []

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name in self.unique_fields:
            value = cleaned.get(name)
            if value in (None, ""):
                continue
            siblings = type(self.instance)._default_manager.filter(
                framework=self.framework, **{name: value}
            )
            if siblings.exclude(pk=self.instance.pk).exists():
                label = self.fields[name].label or name
                self.add_error(name, f"{label} “{value}” is already used in this framework.")
        return cleaned

    def validate_constraints(self) -> None:
        # The checks above give each constraint its human message; Django's generic "Constraint
        # ... is violated" is only a safety net for a rule they missed, so it runs last.
        if not self.errors:  # full_clean is running: this reads the errors so far
            super().validate_constraints()

    def new_key(self) -> str:
        return str(self.cleaned_data.get(self.key_source) or "item")

    def save_new(self) -> FrameworkItem:
        instance = self.save(commit=False)
        model = type(instance)
        instance.key = model.free_key(self.framework, self.new_key())
        last = model._default_manager.filter(framework=self.framework).aggregate(
            last=models.Max("position")
        )["last"]
        instance.position = 0 if last is None else last + 1
        instance.save()
        self.save_m2m()
        return instance

    def save_edit(self) -> FrameworkItem:
        """Save on top of the row_version the form was loaded at (StaleEditError otherwise)."""
        instance = self.save(commit=False)
        instance.save_edited(loaded_row_version=self.cleaned_data["row_version"])
        self.save_m2m()
        return instance


class AISystemForm(ItemForm):
    unique_fields: ClassVar[list[str]] = ["name"]

    class Meta:
        model = AISystem
        fields: ClassVar[list[str]] = editable_fields(AI_SYSTEM_FIELDS)

    def clean_output_types(self) -> list[str]:
        types = [value.strip() for value in self.cleaned_data.get("output_types") or []]
        duplicates = sorted({value for value in types if types.count(value) > 1})
        if duplicates:
            raise forms.ValidationError(f"Listed twice: {', '.join(duplicates)}.")
        return types


class ThresholdForm(ItemForm):
    key_source: ClassVar[str] = "ai_system"

    class Meta:
        model = Threshold
        fields: ClassVar[list[str]] = editable_fields(THRESHOLD_FIELDS)

    def __init__(self, *args: Any, framework: Framework, **kwargs: Any) -> None:
        super().__init__(*args, framework=framework, **kwargs)
        ai_system = cast(forms.ModelChoiceField, self.fields["ai_system"])
        ai_system.queryset = AISystem.objects.filter(framework=framework)
        for name in ["quality_floor", "error_rate_ceiling_pct", "confidence_minimum"]:
            self.fields[name].widget.attrs["inputmode"] = "decimal"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        system, output_type = cleaned.get("ai_system"), cleaned.get("output_type", "")
        if system is None:
            return cleaned
        if output_type and output_type not in system.output_types:
            listed = ", ".join(system.output_types) or "none yet"
            self.add_error(
                "output_type",
                f"{system.name} does not produce “{output_type}” (its output types: {listed}). "
                "Add it to the AI system first, or leave blank for all outputs.",
            )
        taken = Threshold.objects.filter(ai_system=system, output_type=output_type)
        if taken.exclude(pk=self.instance.pk).exists():
            self.add_error(
                "output_type",
                f"{system.name} already has thresholds for "
                f"{'“' + output_type + '”' if output_type else 'all outputs'}: edit those instead.",
            )
        return cleaned

    def new_key(self) -> str:
        system = self.cleaned_data["ai_system"]
        return f"{system.key}-{self.cleaned_data.get('output_type') or 'all-outputs'}"


class FailureModeForm(ItemForm):
    unique_fields: ClassVar[list[str]] = ["name"]

    class Meta:
        model = FailureMode
        fields: ClassVar[list[str]] = editable_fields(FAILURE_MODE_FIELDS)
        widgets: ClassVar[dict[str, Any]] = {
            name: forms.Textarea(attrs={"rows": 2})
            for name in [
                "description",
                "example",
                "detection_signal",
                "immediate_mitigation",
                "long_term_fix",
            ]
        }

    def __init__(self, *args: Any, framework: Framework, **kwargs: Any) -> None:
        super().__init__(*args, framework=framework, **kwargs)
        recommended_level = cast(forms.ModelChoiceField, self.fields["recommended_level"])
        recommended_level.queryset = EscalationLevel.objects.filter(framework=framework)


class LadderLevelForm(ItemForm):
    """Step 3: a rung of the ladder and what leads to it."""

    unique_fields: ClassVar[list[str]] = ["name"]

    class Meta:
        model = EscalationLevel
        fields: ClassVar[list[str]] = LADDER_FIELDS
        widgets: ClassVar[dict[str, Any]] = {
            name: forms.Textarea(attrs={"rows": 2})
            for name in ["trigger", "entry_criteria", "exit_criteria", "rollback_rule"]
        }

    def __init__(self, *args: Any, framework: Framework, **kwargs: Any) -> None:
        super().__init__(*args, framework=framework, **kwargs)
        trigger_thresholds = cast(forms.ModelMultipleChoiceField, self.fields["trigger_thresholds"])
        trigger_thresholds.queryset = Threshold.objects.filter(framework=framework).select_related(
            "ai_system"
        )


class GovernanceLevelForm(ItemForm):
    """Step 4: who approves a rung and what it may cost."""

    class Meta:
        model = EscalationLevel
        fields: ClassVar[list[str]] = GOVERNANCE_FIELDS

    def clean_currency(self) -> str:
        currency = (self.cleaned_data.get("currency") or "").strip().upper()
        if not CURRENCY_CODE.match(currency):
            raise forms.ValidationError("Use a three-letter ISO currency code, e.g. EUR or USD.")
        return currency

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if (
            cleaned.get("approval_rule") == ApprovalRule.ALL_OF_GROUP
            and not (cleaned.get("approval_group") or "").strip()
        ):
            self.add_error("approval_group", "Name the group whose approval is required.")
        return cleaned


class DriftTriggerForm(ItemForm):
    key_source: ClassVar[str] = "metric"

    class Meta:
        model = DriftTrigger
        fields: ClassVar[list[str]] = editable_fields(DRIFT_TRIGGER_FIELDS)

    def __init__(self, *args: Any, framework: Framework, **kwargs: Any) -> None:
        super().__init__(*args, framework=framework, **kwargs)
        ai_system = cast(forms.ModelChoiceField, self.fields["ai_system"])
        ai_system.queryset = AISystem.objects.filter(framework=framework)
        ai_system.empty_label = "Every AI system"

    def new_key(self) -> str:
        system = self.cleaned_data.get("ai_system")
        return f"{self.cleaned_data['metric']}-{system.key if system else 'all'}"


class ExternalTriggerForm(ItemForm):
    key_source: ClassVar[str] = "event"

    class Meta:
        model = ExternalTrigger
        fields: ClassVar[list[str]] = editable_fields(EXTERNAL_TRIGGER_FIELDS)
        widgets: ClassVar[dict[str, Any]] = {
            "description": forms.Textarea(attrs={"rows": 2}),
            "response": forms.Textarea(attrs={"rows": 2}),
        }


class FrameworkSettingsForm(SafeTextForm, forms.ModelForm):
    """The framework's own fields a step edits, saved on top of the loaded row_version."""

    row_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["row_version"].initial = self.instance.row_version
        self.stale_current: list[tuple[str, str]] = []

    def save_edit(self) -> Framework:
        framework = self.save(commit=False)
        framework.save_edited(
            loaded_row_version=self.cleaned_data["row_version"],
            update_fields=list(self._meta.fields or []),
        )
        return framework


class ScopeCreepRuleForm(FrameworkSettingsForm):
    class Meta:
        model = Framework
        fields: ClassVar[list[str]] = ["scope_creep_rule"]


class ReviewCycleForm(FrameworkSettingsForm):
    class Meta:
        model = Framework
        fields: ClassVar[list[str]] = ["review_frequency", "first_review_date", "sunset_criteria"]
        widgets: ClassVar[dict[str, Any]] = {
            "first_review_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }
