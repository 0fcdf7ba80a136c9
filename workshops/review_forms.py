"""Forms of the review pages: freezing a version, deciding on it, commenting, comparing."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.http import HttpRequest

from escalation.forms import FastSelect
from escalation.text import SafeTextForm
from workshops.stepup import RECENT, Authentication, confirm_password, recent_authentication


class FreezeForm(SafeTextForm, forms.Form):
    summary = forms.CharField(
        label="What changed",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="A change summary for reviewers, e.g. “Tightened the claims bot’s latency limit”.",
    )


class StepUpForm(SafeTextForm, forms.Form):
    """A decision that signs: it asks for the approver's password unless they signed in (or
    confirmed it) within the last few minutes. After validation, `authentication` says which."""

    password = forms.CharField(
        label="Your password",
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=(
            f"Confirm it is you: you signed in more than {RECENT.seconds // 60} minutes ago."
        ),
    )

    def __init__(self, *args: Any, request: HttpRequest, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request = request
        self.recent = recent_authentication(request)
        if self.recent is not None:
            del self.fields["password"]  # nothing to ask while the sign-in is fresh
        self.authentication: Authentication | None = self.recent

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.recent is not None:
            return cleaned
        password = cleaned.get("password", "")
        if not password:
            self.add_error("password", "Confirm your password to record this decision.")
            return cleaned
        self.authentication = confirm_password(self.request, password)
        if self.authentication is None:
            self.add_error("password", "That is not your password: nothing was recorded.")
        return cleaned


class ApproveForm(StepUpForm):
    reason = forms.CharField(
        label="Note (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    field_order = ("reason", "password")


class RequestChangesForm(StepUpForm):
    reason = forms.CharField(
        label="What must change",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Say what must change: a reason is required."},
    )
    field_order = ("reason", "password")


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

    # Printed in Python: both lists hold every version, some 500 options at ten times the
    # largest engagement, where Django's template per option took 35 ms.
    a = forms.ChoiceField(label="Compare", widget=FastSelect)
    b = forms.ChoiceField(label="with", widget=FastSelect)

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
