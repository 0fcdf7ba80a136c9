"""Each completeness rule has one home (escalation.completeness): the dashboard, the day's check
and the consistency checks page agree on it. A level is governed by a named approval owner and a
cost ceiling; a role alone names no one to ask."""

from decimal import Decimal

import pytest
from django.urls import reverse

from escalation.models import EscalationLevel
from escalation.steps import STEPS_BY_KEY

GOVERNANCE_DAY = 6


def _one_level(engagement, **owner):
    EscalationLevel.objects.create(
        framework=engagement.framework,
        key="tune",
        name="Fine-tuning",
        position=0,
        cost_ceiling=Decimal(500_000),
        **owner,
    )


def _governed_as_seen_by_each_page(client, engagement):
    """(dashboard count, dashboard percent, day check, checks page percent, checks page
    complaint) for the governance step."""
    dashboard = client.get(reverse("dashboard", args=[engagement.slug])).context
    day = client.get(reverse("day", args=[engagement.slug, GOVERNANCE_DAY])).content.decode()
    checks = client.get(reverse("checks", args=[engagement.slug])).context
    nothing = f"{STEPS_BY_KEY['governance'].title}: nothing recorded yet."
    return (
        dashboard["facts"].counts["governance"],
        dict((step.key, percent) for step, percent, _url in dashboard["steps"])["governance"],
        nothing not in day,
        dict((step.key, percent) for step, percent in checks["steps"])["governance"],
        not any("has no approval owner" in p.message for p in checks["problems"]),
    )


@pytest.mark.parametrize(
    ("owner", "governed"),
    [
        ({"approval_owner_role": "Head of AI"}, (0, 0, False, 0, False)),
        ({"approval_owner_name": "Dana Lead"}, (1, 100, True, 100, True)),
        (
            {"approval_owner_name": "Dana Lead", "approval_owner_role": "CTO"},
            (1, 100, True, 100, True),
        ),
    ],
    ids=["role-only", "name-only", "name-and-role"],
)
def test_dashboard_day_and_checks_page_agree_whether_a_level_is_governed(
    client, facilitator, engagement, owner, governed
):
    _one_level(engagement, **owner)
    client.force_login(facilitator)
    assert _governed_as_seen_by_each_page(client, engagement) == governed
