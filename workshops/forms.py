"""Forms of the engagement pages. Messages mirror the database constraints they stand before."""

from __future__ import annotations

import datetime
import re
import zoneinfo
from typing import Any, cast

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm
from django.core.validators import MaxLengthValidator
from django.forms.utils import flatatt
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from escalation.forms import CheckboxList, FastSelect
from escalation.text import SafeTextForm, date_refusal
from workshops.models import (
    DayNote,
    Engagement,
    EngagementStatus,
    Membership,
    Role,
    SignoffRule,
)
from workshops.people import display_name
from workshops.roles import GRANTABLE_ROLES


class DateListField(forms.Field):
    """Dates typed as YYYY-MM-DD, separated by commas, spaces or new lines."""

    widget = forms.Textarea(attrs={"rows": 2})

    def to_python(self, value: Any) -> list[datetime.date]:
        if isinstance(value, list):
            return value
        dates = []
        for text in re.split(r"[\s,;]+", (value or "").strip()):
            if not text:
                continue
            try:
                dates.append(datetime.date.fromisoformat(text))
            except ValueError:
                raise forms.ValidationError(
                    f"“{text}” is not a date: write dates as YYYY-MM-DD, e.g. 2026-12-25."
                ) from None
            if refusal := date_refusal(dates[-1]):
                raise forms.ValidationError(f"{text}: {refusal}")
        return sorted(set(dates))

    def prepare_value(self, value: Any) -> str:
        if isinstance(value, list):
            return ", ".join(
                item.isoformat() if isinstance(item, datetime.date) else str(item) for item in value
            )
        return value or ""


# The length of an engagement (constraint engagement_working_days_between_5_and_10).
MIN_WORKING_DAYS, MAX_WORKING_DAYS = 5, 10
# About 600 zones: listed once at import, and their <option>s escaped and joined once, not
# rendered one widget template each on every settings and new-engagement page.
TIMEZONE_CHOICES = [(name, name) for name in sorted(zoneinfo.available_timezones())]
_TIMEZONE_OPTIONS = {
    name: format_html('<option value="{}">{}</option>', name, label)
    for name, label in TIMEZONE_CHOICES
}
_ALL_TIMEZONE_OPTIONS = "".join(_TIMEZONE_OPTIONS.values())


def timezone_choices() -> list[tuple[str, str]]:
    # A callable: a form copies a list of choices for each instance, not a callable.
    return TIMEZONE_CHOICES


class TimeZoneSelect(forms.Select):
    """A select of `TIMEZONE_CHOICES` put together from the prebuilt options."""

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        final_attrs = self.build_attrs(self.attrs, {**(attrs or {}), "name": name})
        options = _ALL_TIMEZONE_OPTIONS
        if value in _TIMEZONE_OPTIONS:  # each option's text is unique: it names its zone
            option = _TIMEZONE_OPTIONS[value]
            selected = option.replace("<option ", "<option selected ", 1)
            options = options.replace(option, selected, 1)
        return format_html("<select{}>{}</select>", flatatt(final_attrs), mark_safe(options))

    def use_required_attribute(self, initial: Any) -> bool:
        # What Select decides from its first option, a zone (never empty, so no `required`),
        # without normalizing all 600 choices to read it.
        return False


class EngagementSettingsForm(SafeTextForm, forms.ModelForm):
    holidays = DateListField(
        required=False,
        help_text="Days the workshop does not meet besides weekends, as YYYY-MM-DD.",
    )
    timezone = forms.ChoiceField(
        choices=timezone_choices,
        widget=TimeZoneSelect,
        help_text="Decides which day is “today” on the plan.",
    )
    # One rule for the browser (the input's min and max) and the server, as in the database.
    working_days = forms.IntegerField(
        min_value=MIN_WORKING_DAYS,
        max_value=MAX_WORKING_DAYS,
        label="Length in working days",
        error_messages={
            "min_value": "An engagement runs 5 to 10 working days.",
            "max_value": "An engagement runs 5 to 10 working days.",
        },
    )

    class Meta:
        model = Engagement
        fields = [
            "client_organisation",
            "title",
            "scope_summary",
            "start_date",
            "working_days",
            "timezone",
            "holidays",
        ]
        labels = {"working_days": "Length in working days", "client_organisation": "Client"}
        widgets = {
            "start_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "scope_summary": forms.Textarea(attrs={"rows": 3}),
        }

    def clean_start_date(self) -> datetime.date:
        """A weekend start is accepted as the Monday after it, the day the plan's Day 1 falls on;
        `moved_start_from` keeps the date typed, for the page to say so."""
        start = self.cleaned_data["start_date"]
        self.moved_start_from = None
        if start is not None and start.weekday() >= 5:
            self.moved_start_from = start
            start += datetime.timedelta(days=7 - start.weekday())
        return start


class NewEngagementForm(EngagementSettingsForm):
    copy_from = forms.ModelChoiceField(
        queryset=Engagement.objects.none(),
        required=False,
        widget=FastSelect,  # a consultant's past engagements: dozens, one template each else
        empty_label="The method's defaults (five failure types, six ladder levels)",
        label="Start from",
        help_text="Or copy a past engagement's framework for its next review cycle.",
    )

    class Meta(EngagementSettingsForm.Meta):
        fields = ["slug", *EngagementSettingsForm.Meta.fields]
        help_texts = {
            "slug": "The engagement's address: letters, digits and hyphens. Blank: from the title."
        }

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["slug"].required = False  # the view makes one from the title, as on import
        # static/js/app.js offers the browser's zone next to the site's default.
        self.fields["timezone"].widget.attrs["data-offer-browser-timezone"] = ""
        # Only frameworks the user facilitated: copying must not leak another client's content.
        cast(forms.ModelChoiceField, self.fields["copy_from"]).queryset = Engagement.objects.filter(
            memberships__user=user, memberships__role=Role.FACILITATOR
        ).order_by("-start_date")


class StatusForm(SafeTextForm, forms.Form):
    status = forms.ChoiceField(choices=EngagementStatus.choices)


class DayNoteForm(SafeTextForm, forms.ModelForm):
    row_version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    class Meta:
        model = DayNote
        fields = ["attendees", "decisions", "open_questions"]
        widgets = {
            "attendees": forms.Textarea(attrs={"rows": 3}),
            "decisions": forms.Textarea(attrs={"rows": 4}),
            "open_questions": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "attendees": "One person per line, with their role.",
            "decisions": "What the group settled today, one per line.",
            "open_questions": "What stays open, and who will answer it.",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["row_version"].initial = self.instance.row_version

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("decisions", "").strip() and not cleaned.get("attendees", "").strip():
            # A decision without the people who took it cannot be traced in a review.
            self.add_error("attendees", "Record who was present before recording decisions.")
        return cleaned


class InvitationForm(SafeTextForm, forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=Role.choices, initial=Role.REVIEWER)

    def __init__(self, *args: Any, engagement: Engagement, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.engagement = engagement

    def clean_role(self) -> str:
        role = self.cleaned_data["role"]
        inviter = self.engagement.membership
        if role not in GRANTABLE_ROLES[inviter.role]:
            # Never more than the inviter holds: the invitation carries their authority.
            raise forms.ValidationError(
                f"As {inviter.get_role_display().lower()} you cannot invite someone as "
                f"{Role(role).label.lower()}."
            )
        return role

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if Membership.objects.filter(
            engagement=self.engagement, user__email__iexact=email
        ).exists():
            raise forms.ValidationError("This person is already a member of the engagement.")
        return email


class RoleForm(SafeTextForm, forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class InvitedUserForm(SafeTextForm, UserCreationForm):
    """A new account for someone who follows an invitation link: its email address is the
    invited one, shown and not editable (the link reached that mailbox, which is the proof)."""

    email = forms.EmailField(
        disabled=True,
        required=False,
        label="Email address",
        help_text="The address this invitation was sent to.",
    )

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email", "first_name", "last_name")

    def __init__(self, *args: Any, invited_email: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.invited_email = invited_email
        self.fields["email"].initial = invited_email

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if get_user_model().objects.filter(email__iexact=self.invited_email).exists():
            # One account per address: the invitation joins that account, not a new one.
            raise forms.ValidationError(
                "An account with this email address exists already: sign in to accept."
            )
        cleaned["email"] = self.invited_email
        full_name = f"{cleaned.get('first_name', '')} {cleaned.get('last_name', '')}".strip()
        if len(full_name) > FULL_NAME_LENGTH:
            # The full name is what versions, sign-offs and mails record, in 150 characters.
            self.add_error(
                "last_name",
                f"First and last name together take at most {FULL_NAME_LENGTH} characters.",
            )
        return cleaned


FULL_NAME_LENGTH = 150


class SignoffRuleForm(SafeTextForm, forms.Form):
    """Whose approval signs a version off: every approver, or the approvers named here."""

    rule = forms.ChoiceField(
        choices=SignoffRule.choices, widget=forms.RadioSelect, label="A version is signed off when"
    )
    approvers = forms.MultipleChoiceField(
        required=False,
        widget=CheckboxList,
        label="Named approvers",
        help_text="Used with “the named approvers”: only these approvers must approve.",
    )

    def __init__(self, *args: Any, engagement: Engagement, **kwargs: Any) -> None:
        self.approver_memberships = list(
            engagement.memberships.filter(role=Role.APPROVER)
            .select_related("user")
            .only("signoff_required", "user__username", "user__first_name", "user__last_name")
        )
        kwargs.setdefault(
            "initial",
            {
                "rule": engagement.signoff_rule,
                "approvers": [
                    m.user.username for m in self.approver_memberships if m.signoff_required
                ],
            },
        )
        super().__init__(*args, **kwargs)
        # Each approver's username and the name shown for them (the view's activity summary too).
        self.approver_names = {
            m.user.username: display_name(m.user) for m in self.approver_memberships
        }
        cast(forms.MultipleChoiceField, self.fields["approvers"]).choices = list(
            self.approver_names.items()
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("rule") == SignoffRule.NAMED_APPROVERS and not cleaned.get("approvers"):
            # With nobody named, sign-off would silently fall back to every approver.
            self.add_error("approvers", "Name at least one approver whose approval is required.")
        return cleaned


class LoginForm(SafeTextForm, AuthenticationForm):
    """Django's login form, refusing an over-long username before authenticating. Django sets the
    username field's max_length for the widget only, and django-axes would record the whole text
    of a failed attempt in its 255-character username column: a server error, not a message."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        username = cast(forms.CharField, self.fields["username"])
        username.validators.append(MaxLengthValidator(username.max_length))


class AdminLoginForm(LoginForm, AdminAuthenticationForm):
    """The admin's login form, with the same refusal."""
