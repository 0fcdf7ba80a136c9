"""Forms of the review pages: freezing a version, deciding on it, commenting, comparing."""

from __future__ import annotations

from typing import Any, cast

from django import forms

from escalation.text import SafeTextForm


class FreezeForm(SafeTextForm, forms.Form):
    summary = forms.CharField(
        label="What changed",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="A change summary for reviewers, e.g. “Tightened the claims bot’s latency limit”.",
    )


class ApproveForm(SafeTextForm, forms.Form):
    reason = forms.CharField(
        label="Note (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class RequestChangesForm(SafeTextForm, forms.Form):
    reason = forms.CharField(
        label="What must change",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Say what must change: a reason is required."},
    )


class WithdrawForm(SafeTextForm, forms.Form):
    reason = forms.CharField(label="Why", required=False, max_length=2000)


class CommentForm(SafeTextForm, forms.Form):
    body = forms.CharField(
        label="Comment",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Write a comment first."},
    )
    item = forms.CharField(required=False, max_length=120, widget=forms.HiddenInput)
    parent = forms.IntegerField(required=False, widget=forms.HiddenInput)


DRAFT = "draft"


class CompareForm(SafeTextForm, forms.Form):
    """Two sides to compare: version numbers, or "draft" for the working draft."""

    a = forms.ChoiceField(label="Compare")
    b = forms.ChoiceField(label="with")

    def __init__(self, *args: Any, numbers: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(str(n), f"v{n}") for n in numbers] + [(DRAFT, "Working draft")]
        cast(forms.ChoiceField, self.fields["a"]).choices = choices
        cast(forms.ChoiceField, self.fields["b"]).choices = choices

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("a") and data.get("a") == data.get("b"):
            raise forms.ValidationError("Pick two different sides to compare.")
        return data
