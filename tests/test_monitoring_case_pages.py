"""The case page (members read it; only the approver the level names decides, with step-up), the
external event form on the live page (facilitators), and the cases API (a bearer token of the
engagement): each works, refuses who may not, keeps bad input out, and costs the same number of
queries with one case as with many."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from escalation.models import ExternalEvent
from monitoring import cases
from monitoring.models import ApiToken, CaseKind, CaseStatus, EscalationCase, SystemLevel
from tests.factories import SEEDED, make_engagement, make_member, make_user
from tests.live_demo import feed
from workshops.models import Activity, Role
from workshops.stepup import SESSION_KEY

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(engagement, demo):
    feed(engagement, [0.80, 0.80, 0.80])
    return EscalationCase.objects.get(engagement=engagement)


def url(name: str, case: EscalationCase) -> str:
    return reverse(name, args=[case.engagement.slug, case.public_id])


def signed_in_long_ago(client, user):
    """`user` signed in more than five minutes ago: a decision asks for their password."""
    client.force_login(user)
    session = client.session
    session[SESSION_KEY] = (timezone.now() - datetime.timedelta(minutes=30)).isoformat()
    session.save()


# The case page.


def test_the_case_page_shows_evidence_proposal_governance_and_timeline(client, observer, case):
    client.force_login(observer)
    page = client.get(url("case_detail", case)).content.decode()
    assert "2. Retrieval augmentation" in page and "Priya Natarajan (AI product owner)" in page
    assert "EUR 25,000 one-off" in page and "EUR 15,000–18,000 one-off" in page
    assert page.count("Breached</td>") == 1  # the one window that fired so far
    assert "<strong>Opened</strong> by the evaluation" in page


def test_the_case_page_names_the_failure_modes_the_bound_detects(
    client, engagement, observer, demo
):
    """0.94 field accuracy is an immediate breach (≤ 0.95) of the extraction pipeline."""
    feed(engagement, [0.94], series=("document-extraction", "extraction", "field_accuracy"))
    client.force_login(observer)
    page = client.get(url("case_detail", EscalationCase.objects.get()))
    assert "Failure modes this bound detects: Hallucination." in page.content.decode()


def test_the_owner_is_offered_the_decision_and_an_observer_is_not(client, observer, case, demo):
    client.force_login(demo["owner"])
    assert (
        "Approve 2. Retrieval augmentation" in client.get(url("case_detail", case)).content.decode()
    )
    client.force_login(observer)
    assert "Approve 2. Retrieval" not in client.get(url("case_detail", case)).content.decode()


def test_a_facilitator_is_refused_the_owners_decision(client, facilitator, case):
    client.force_login(facilitator)
    assert client.post(url("case_approve", case), {}).status_code == 403


def test_an_approver_the_level_does_not_name_is_refused(client, approver, case):
    client.force_login(approver)
    assert client.post(url("case_approve", case), {}).status_code == 403
    assert EscalationCase.objects.get().status == CaseStatus.OPEN


def test_an_outsider_does_not_find_the_case(client, outsider, case):
    client.force_login(outsider)
    assert client.get(url("case_detail", case)).status_code == 404


def test_approving_after_a_stale_sign_in_asks_for_the_password(client, case, demo):
    signed_in_long_ago(client, demo["owner"])
    response = client.post(url("case_approve", case), {"approve-reason": "Go"})
    assert response.status_code == 422
    assert "Confirm your password" in response.content.decode()
    assert EscalationCase.objects.get().status == CaseStatus.OPEN


def test_the_owner_approves_with_the_password_and_the_level_moves(client, case, demo):
    signed_in_long_ago(client, demo["owner"])
    client.post(
        url("case_approve", case), {"approve-reason": "Go", "approve-password": "pass-word-1"}
    )
    case.refresh_from_db()
    assert (case.status, case.events.get(kind="approved").authenticated_via) == (
        CaseStatus.APPROVED,
        "password",
    )
    assert SystemLevel.objects.get(ai_system="support-assistant").level_key == (
        "retrieval-augmentation"
    )
    assert Activity.objects.filter(verb="case.approve").exists()


@pytest.mark.parametrize("reason", ["no\x07bell", "x" * 2001, ""])
def test_a_decline_with_a_bad_reason_is_refused_and_changes_nothing(client, case, demo, reason):
    client.force_login(demo["owner"])
    response = client.post(url("case_decline", case), {"decline-reason": reason})
    assert response.status_code == 422
    assert EscalationCase.objects.get().status == CaseStatus.OPEN


def test_the_owner_declines_with_a_reason(client, case, demo):
    client.force_login(demo["owner"])
    client.post(url("case_decline", case), {"decline-reason": "A data outage, not the model"})
    case.refresh_from_db()
    assert (case.status, case.decision_reason) == (
        CaseStatus.DECLINED,
        "A data outage, not the model",
    )


def test_the_case_page_query_count_does_not_grow_with_evidence_or_events(
    client, engagement, observer, case
):
    """Session, user and membership; the case and its version; the evidence; the timeline; the
    approvals given; the windows after approval (none while open): the same with one window of
    evidence as with thirty."""
    client.force_login(observer)
    page = url("case_detail", case)
    client.get(page)
    counts = []
    for more in (0, 30):
        if more:
            feed(engagement, [0.80] * more, start=datetime.date(2026, 11, 4))
        with CaptureQueriesContext(connection) as captured:
            assert client.get(page).status_code == 200
        counts.append(len(captured))
    assert case.evidence.count() == 31
    assert counts[0] == counts[1]


# The live page.


def test_the_live_page_lists_a_systems_open_cases_and_its_live_level(client, observer, case, demo):
    client.force_login(observer)
    cases.approve_case(case, demo["owner"], "", authentication=SEEDED)
    page = client.get(reverse("live", args=["acme"])).content.decode()
    assert "Current level: <strong>2. Retrieval augmentation</strong>" in page
    assert url("case_detail", case) in page


def test_the_live_page_query_count_does_not_grow_with_cases(client, engagement, observer, demo):
    """The live page's queries: session, user and membership, the version in force, its
    evaluation mark, whether points exist, the recent windows, the live levels and the cases in
    play (one query each): the same with one case as with twelve."""
    client.force_login(observer)
    live = reverse("live", args=["acme"])
    counts = []
    for opened in (1, 12):
        while EscalationCase.objects.count() < opened:
            cases.open_review_case(
                engagement,
                demo["version"],
                ai_system="claims-triage",
                kind=CaseKind.EXTERNAL_EVENT,
                trigger_key="",
                reason="An event",
            )
        client.get(live)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(live).status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1]


# External events.


def test_a_facilitator_records_an_external_event_and_its_review_case_opens(
    client, facilitator, demo
):
    client.force_login(facilitator)
    response = client.post(
        reverse("live_external_event", args=["acme"]),
        {
            "event-event": ExternalEvent.MODEL_DEPRECATION,
            "event-ai_system": "document-extraction",
            "event-text": "claude-sonnet 4.5 retires on 1 March",
        },
    )
    case = EscalationCase.objects.get()
    assert response["Location"] == url("case_detail", case)
    assert (case.kind, case.trigger_key) == (CaseKind.EXTERNAL_EVENT, "model-deprecation")
    assert Activity.objects.filter(verb="case.external_event").exists()


@pytest.mark.parametrize(
    "text", ["bad\x1b[31m escape", "x" * 2001, ""], ids=["control", "long", "empty"]
)
def test_an_external_event_with_bad_text_is_refused_and_opens_nothing(
    client, facilitator, demo, text
):
    client.force_login(facilitator)
    response = client.post(
        reverse("live_external_event", args=["acme"]),
        {
            "event-event": ExternalEvent.REGULATORY_CHANGE,
            "event-ai_system": "claims-triage",
            "event-text": text,
        },
    )
    assert response.status_code == 422
    assert not EscalationCase.objects.exists()


def test_an_external_event_for_an_unknown_system_is_refused(client, facilitator, demo):
    client.force_login(facilitator)
    response = client.post(
        reverse("live_external_event", args=["acme"]),
        {"event-event": "custom", "event-ai_system": "nope", "event-text": "x"},
    )
    assert response.status_code == 422


# The cases API.


def api_get(client, slug: str, secret: str | None):
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    return client.get(reverse("api_cases", args=[slug]), headers=headers)


def test_the_cases_api_lists_each_case_with_its_evidence_windows(client, engagement, case):
    _, secret = ApiToken.issue(engagement, "reader")
    listed = api_get(client, "acme", secret).json()["cases"]
    assert [
        (c["ai_system"], c["bound"], c["proposed_level"], c["owner"], c["status"]) for c in listed
    ] == [
        (
            "support-assistant",
            "support-assistant-chat-answer-answer-groundedness",
            "retrieval-augmentation",
            "Priya Natarajan (AI product owner)",
            "open",
        )
    ]
    assert listed[0]["evidence"] == [
        {
            "window_start": "2026-11-03T00:00:00+00:00",
            "window_hours": 24,
            "value": 0.8,
            "sample_size": 50,
            "outcome": "breached",
            "immediate_breach": False,
        }
    ]


def test_the_cases_api_answers_a_page_at_a_time_with_the_count_and_the_next_page(
    client, engagement, case, monkeypatch
):
    monkeypatch.setattr("monitoring.views.API_CASES_PAGE", 1)
    second = EscalationCase.objects.get(pk=case.pk)
    second.pk, second.public_id, second.kind = None, uuid.uuid4(), CaseKind.EXTERNAL_EVENT
    second.bound_key, second.trigger_key = "", ""
    second.save()
    _, secret = ApiToken.issue(engagement, "reader")
    first = api_get(client, "acme", secret).json()
    assert (first["count"], first["page"], first["pages"]) == (2, 1, 2)
    assert first["next"].endswith(reverse("api_cases", args=["acme"]) + "?page=2")
    headers = {"Authorization": f"Bearer {secret}"}
    last = client.get(first["next"], headers=headers).json()
    assert last["next"] is None
    assert {first["cases"][0]["id"], last["cases"][0]["id"]} == {
        str(case.public_id),
        str(second.public_id),
    }
    beyond = client.get(reverse("api_cases", args=["acme"]), {"page": "3"}, headers=headers)
    assert beyond.status_code == 400 and "pages run from 1 to 2" in beyond.json()["error"]


def test_the_cases_api_refuses_a_request_without_a_token(client, case):
    assert api_get(client, "acme", None).status_code == 401


def test_another_engagements_token_cannot_read_the_cases(client, case):
    other = make_engagement(slug="other")
    make_member(other, Role.FACILITATOR, make_user("olga"))
    _, secret = ApiToken.issue(other, "theirs")
    assert api_get(client, "acme", secret).status_code == 404


def test_a_revoked_token_cannot_read_the_cases(client, engagement, case):
    token, secret = ApiToken.issue(engagement, "old")
    token.revoke()
    assert api_get(client, "acme", secret).status_code == 401
