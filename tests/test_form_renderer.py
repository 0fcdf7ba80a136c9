"""Every form prints through the project's renderer (escalation.forms.FastRenderer, which builds
the common widgets' markup in Python) exactly what Django's own templates print: empty, and
sent back with hostile text and errors beside the fields."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.db import SessionStore
from django.core.files.uploadedfile import SimpleUploadedFile
from django.forms.renderers import DjangoTemplates, get_default_renderer
from django.test import RequestFactory

from escalation.forms import FastRenderer
from monitoring.forms import (
    ApiTokenForm,
    CaseApproveForm,
    CaseDecisionForm,
    ExternalEventForm,
    PointsUploadForm,
)
from workshops.forms import (
    DayNoteForm,
    EngagementSettingsForm,
    InvitationForm,
    InvitedUserForm,
    LoginForm,
    NewEngagementForm,
    RoleForm,
    SignoffRuleForm,
    StatusForm,
)
from workshops.imports import ImportEngagementForm
from workshops.review_forms import (
    ApproveForm,
    CommentForm,
    CompareForm,
    FreezeForm,
    RequestChangesForm,
    WithdrawForm,
)

pytestmark = pytest.mark.django_db

HOSTILE = 'x" onmouseover="alert(1)" <script>&amp;\\ \'\n\x0b\u2028'


def _sent_back() -> dict[str, Any]:
    """Every field name any of the forms has, with hostile text (most fail validation)."""
    names = [
        "client_organisation", "title", "scope_summary", "start_date", "working_days",
        "timezone", "holidays", "slug", "copy_from", "status", "attendees", "decisions",
        "open_questions", "row_version", "email", "role", "username", "first_name",
        "last_name", "password1", "password2", "rule", "password", "note", "reason", "body",
        "a", "b", "name", "event", "ai_system", "occurred_at", "summary",
    ]  # fmt: skip
    sent = dict.fromkeys(names, HOSTILE)
    sent["approvers"] = [HOSTILE, "approver"]
    return sent


def _request() -> Any:
    request = RequestFactory().post("/")
    request.session = SessionStore()
    request.user = AnonymousUser()
    return request


def _every_form(engagement: Any, facilitator: Any) -> list[Callable[..., Any]]:
    request = _request()
    return [
        lambda **kw: EngagementSettingsForm(instance=engagement, **kw),
        lambda **kw: NewEngagementForm(user=facilitator, **kw),
        lambda **kw: StatusForm(**kw),
        lambda **kw: DayNoteForm(**kw),
        lambda **kw: InvitationForm(engagement=engagement, **kw),
        lambda **kw: RoleForm(**kw),
        lambda **kw: InvitedUserForm(invited_email=HOSTILE, **kw),
        lambda **kw: SignoffRuleForm(engagement=engagement, **kw),
        lambda **kw: ImportEngagementForm(**kw),
        lambda **kw: FreezeForm(**kw),
        lambda **kw: ApproveForm(request=request, **kw),
        lambda **kw: RequestChangesForm(request=request, **kw),
        lambda **kw: WithdrawForm(**kw),
        lambda **kw: CommentForm(**kw),
        lambda **kw: CompareForm(numbers=[1, 2], **kw),
        lambda **kw: ApiTokenForm(**kw),
        lambda **kw: PointsUploadForm(**kw),
        lambda **kw: CaseApproveForm(request=request, **kw),
        lambda **kw: CaseDecisionForm(request=request, **kw),
        lambda **kw: ExternalEventForm(systems=[("triage", HOSTILE)], **kw),
    ]


def _printed(form: Any) -> list[tuple[str, str, str]]:
    """What includes/field.html prints of each field: its label, its widget, its errors."""
    return [(str(field.label_tag()), str(field), str(field.errors)) for field in form]


def test_forms_are_printed_by_the_projects_renderer():
    assert isinstance(get_default_renderer(), FastRenderer)


def test_every_form_prints_what_djangos_templates_print(engagement, facilitator, approver):
    django = DjangoTemplates()
    files = {"file": SimpleUploadedFile("x.json", b"{}")}
    for build in _every_form(engagement, facilitator):
        for sent in ({}, {"data": _sent_back(), "files": files}):
            ours, theirs = build(**sent), build(renderer=django, **sent)
            if sent:  # errors beside the fields where the text is refused
                assert ours.is_valid() == theirs.is_valid(), type(ours).__name__
            assert _printed(ours) == _printed(theirs), type(ours).__name__


def test_the_login_form_prints_what_djangos_templates_print(db):
    sent = {"username": HOSTILE, "password": HOSTILE}
    for data in (None, sent):
        ours = LoginForm(_request(), data=data)
        theirs = LoginForm(_request(), data=data, renderer=DjangoTemplates())
        if data:
            assert not ours.is_valid() and not theirs.is_valid()  # no such user
        assert _printed(ours) == _printed(theirs)
