"""End to end through the HTTP endpoints with a real token: a simulated degradation of the support
assistant's answer groundedness (≥ 0.85) opens a case proposing retrieval augmentation, owned by
Priya Natarajan; she approves it with step-up; then either a recovery closes it by the sunset
rule, or no recovery leads to the roll-back proposal and the system goes back a rung."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from escalation.demo_framework import fill_demo_framework
from escalation.models import EscalationLevel, SunsetRule
from monitoring import cases
from monitoring.models import ApiToken, CaseStatus, EscalationCase, SystemLevel
from tests.factories import SEEDED, make_member, make_user, make_version, sign_off
from tests.live_demo import groundedness_points
from workshops.models import Activity, Role
from workshops.stepup import SESSION_KEY

pytestmark = pytest.mark.django_db


@pytest.fixture
def live(client, engagement, facilitator, approver) -> dict[str, Any]:
    """The demo framework, its 90-day sunset rule (half the gap closed) covering retrieval
    augmentation too, signed off; an API token; Priya Natarajan signed in long ago."""
    fill_demo_framework(engagement.framework, datetime.date(2026, 11, 13))
    SunsetRule.objects.get(framework=engagement.framework).levels.add(
        EscalationLevel.objects.get(framework=engagement.framework, key="retrieval-augmentation")
    )
    sign_off(engagement, make_version(engagement.framework), [approver])
    owner = make_member(
        engagement, Role.APPROVER, make_user("priya", first_name="Priya", last_name="Natarajan")
    )
    client.force_login(owner)
    session = client.session
    session[SESSION_KEY] = (timezone.now() - datetime.timedelta(hours=1)).isoformat()
    session.save()
    _, secret = ApiToken.issue(engagement, "production", facilitator)
    return {"secret": secret, "owner": owner}


def send(client, live, values, start: datetime.date):
    response = client.post(
        reverse("api_metrics", args=["acme"]),
        json.dumps(groundedness_points(values, start)),
        content_type="application/json",
        headers={"Authorization": f"Bearer {live['secret']}"},
    )
    assert response.status_code == 200, response.content


def listed_cases(client, live) -> list[dict[str, Any]]:
    response = client.get(
        reverse("api_cases", args=["acme"]), headers={"Authorization": f"Bearer {live['secret']}"}
    )
    return response.json()["cases"]


def decide(client, name: str, case_id: str, reason: str) -> None:
    prefix = name.removeprefix("case_")
    client.post(
        reverse(name, args=["acme", case_id]),
        {f"{prefix}-reason": reason, f"{prefix}-password": "pass-word-1"},
    )


def degrade_and_approve(client, live) -> dict[str, Any]:
    """Three days at 0.80 ending yesterday fire the bound; the owner approves the proposal."""
    today = timezone.localdate()
    send(client, live, [0.80, 0.80, 0.80], today - datetime.timedelta(days=3))
    [case] = listed_cases(client, live)
    decide(client, "case_approve", case["id"], "Add the policy documents as retrieval context")
    return case


def test_a_degradation_opens_a_case_proposing_the_next_rung_and_its_owner(
    client, live, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        send(client, live, [0.80, 0.80, 0.80], datetime.date(2026, 11, 1))
    [case] = listed_cases(client, live)
    assert (case["proposed_level"], case["owner"], case["status"]) == (
        "retrieval-augmentation",
        "Priya Natarajan (AI product owner)",
        "open",
    )
    mails = DBTaskResult.objects.filter(task_path="workshops.notifications.deliver_mail")
    assert [task.args_kwargs["args"][2] for task in mails] == ["priya@example.com"]


def test_approved_then_recovered_the_sunset_verdict_closes_the_case(client, live):
    case = degrade_and_approve(client, live)
    assert listed_cases(client, live)[0]["status"] == "approved"
    # 0.80 at approval against ≥ 0.85: half the gap closed is 0.825; the recovery reaches 0.87
    # (its first day, still breached, fires again: evidence of the case in play).
    send(client, live, [0.84, 0.87], timezone.localdate() + datetime.timedelta(days=1))
    page = client.get(reverse("case_detail", args=["acme", case["id"]])).content.decode()
    assert "Improved: closure proposed." in page
    decide(client, "case_close", case["id"], "Groundedness is back above the bound")
    closed = EscalationCase.objects.get()
    assert closed.status == CaseStatus.CLOSED
    assert SystemLevel.objects.get(ai_system="support-assistant").level_key == (
        "retrieval-augmentation"
    )
    assert list(Activity.objects.filter(verb__startswith="case.").values_list("verb", flat=True))[
        ::-1
    ] == ["case.open", "case.approve", "case.evidence", "case.close"]


def test_approved_without_recovery_the_sunset_verdict_proposes_roll_back(client, live):
    case = degrade_and_approve(client, live)
    send(client, live, [0.80, 0.81], timezone.localdate() + datetime.timedelta(days=1))
    stored = EscalationCase.objects.get()
    # The clock still runs today; at the sunset date the verdict proposes roll-back.
    assert cases.sunset_verdict(stored).verdict == cases.Verdict.PENDING
    at_sunset = cases.sunset_verdict(stored, today=stored.sunset_on)
    assert (at_sunset.verdict, at_sunset.proposes) == (cases.Verdict.NOT_IMPROVED, "roll-back")
    cases.roll_back_case(
        stored,
        live["owner"],
        "No better after 90 days",
        authentication=SEEDED,
        today=stored.sunset_on,
    )
    assert listed_cases(client, live)[0]["status"] == "rolled_back"
    assert SystemLevel.objects.get(ai_system="support-assistant").level_key == (
        "prompt-optimization"
    )
    assert case["from_level"] == "prompt-optimization"
