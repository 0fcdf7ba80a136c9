"""Forms of the live pages: naming a new API token, uploading a CSV of points, recording an
external event, and deciding on an escalation case."""

from __future__ import annotations

from typing import Any, cast

from django import forms

from escalation.forms import CachedOption, FastSelect
from escalation.models import ExternalEvent
from escalation.text import SafeTextForm
from monitoring.cases import REASON_MAX
from workshops.review_forms import StepUpForm

# A CSV upload is read whole into memory: the request limit (2 MB) holds it.
MAX_UPLOAD_BYTES = 2 * 1024 * 1024


class ApiTokenForm(SafeTextForm, forms.Form):
    name = forms.CharField(
        max_length=100, help_text="What will send with it, e.g. production OpenTelemetry."
    )


class PointsUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV of metric points",
        help_text="Header: time,ai_system,output_type,metric,value,sample_size",
    )

    def clean_file(self) -> bytes:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("The file is over 2 MB: send it in parts, or use the API.")
        return bytes(upload.read())


class CaseApproveForm(StepUpForm):
    """The owner's approval of an escalation: a note, and step-up as for a sign-off."""

    reason = forms.CharField(
        label="Note (optional)",
        required=False,
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    field_order = ("reason", "password")


class CaseDecisionForm(StepUpForm):
    """Declining, closing or rolling back: a reason is required, and step-up."""

    reason = forms.CharField(
        label="Reason",
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Give a reason: it is recorded with the decision."},
    )
    field_order = ("reason", "password")


class ExternalEventForm(SafeTextForm, forms.Form):
    """A facilitator's record of an outside event concerning one AI system."""

    event = forms.ChoiceField(label="Event", choices=ExternalEvent.choices, widget=FastSelect)
    ai_system = forms.ChoiceField(label="AI system", widget=FastSelect)  # hundreds of systems
    text = forms.CharField(
        label="What happened",
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="E.g. the vendor's release note, the deprecation date, the regulation.",
    )

    def __init__(
        self,
        *args: Any,
        systems: list[tuple[str, str]],
        options: list[CachedOption] | None = None,
        **kwargs: Any,
    ) -> None:
        """`options`: the same systems as the drop-down's HTML, read from the cache, so a
        framework of hundreds of systems does not build each option per request."""
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["ai_system"]).choices = systems
        if options is not None:
            cast(FastSelect, self.fields["ai_system"].widget).cached_options = lambda: options
