"""The sign-off rule screen: the facilitator chooses whose approval signs a version off."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import make_member, make_user
from workshops.models import Activity, Engagement, Invitation, Membership, Role, SignoffRule

URL = reverse("signoff_rule", args=["acme"])


def _rule(engagement):
    return Engagement.objects.get(pk=engagement.pk).signoff_rule


def test_facilitator_names_the_approvers_who_must_approve(
    client, engagement, facilitator, approver
):
    second = make_member(engagement, Role.APPROVER, make_user("bea"))
    client.force_login(facilitator)
    client.post(URL, {"rule": SignoffRule.NAMED_APPROVERS, "approvers": [second.username]})
    required = [m.user for m in Engagement.objects.get(pk=engagement.pk).signoff_approvers()]
    assert required == [second]


def test_changing_the_rule_is_recorded_in_the_audit_trail(
    client, engagement, facilitator, approver
):
    client.force_login(facilitator)
    client.post(URL, {"rule": SignoffRule.NAMED_APPROVERS, "approvers": [approver.username]})
    activity = Activity.objects.get(verb="changed sign-off rule")
    assert activity.changes["sign-off rule"] == {
        "before": "every approver must approve",
        "after": "only Abe must approve",
    }


def test_back_to_every_approver_keeps_the_names_for_later(
    client, engagement, facilitator, approver
):
    other = make_member(engagement, Role.APPROVER, make_user("bea"))
    client.force_login(facilitator)
    client.post(URL, {"rule": SignoffRule.NAMED_APPROVERS, "approvers": [approver.username]})
    client.post(URL, {"rule": SignoffRule.ALL_APPROVERS})
    assert _rule(engagement) == SignoffRule.ALL_APPROVERS
    assert not Membership.objects.get(user=other).signoff_required


def test_the_named_rule_without_a_name_is_refused_and_changes_nothing(
    client, engagement, facilitator, approver
):
    client.force_login(facilitator)
    response = client.post(URL, {"rule": SignoffRule.NAMED_APPROVERS})
    assert response.status_code == 422
    assert "Name at least one approver" in response.content.decode()
    assert _rule(engagement) == SignoffRule.ALL_APPROVERS


def test_naming_someone_who_is_not_an_approver_is_refused(
    client, engagement, facilitator, reviewer
):
    client.force_login(facilitator)
    data = {"rule": SignoffRule.NAMED_APPROVERS, "approvers": [reviewer.username]}
    response = client.post(URL, data)
    assert response.status_code == 422
    assert _rule(engagement) == SignoffRule.ALL_APPROVERS


def test_an_unknown_rule_is_refused(client, engagement, facilitator):
    client.force_login(facilitator)
    response = client.post(URL, {"rule": "whoever_is_around"})
    assert response.status_code == 422
    assert _rule(engagement) == SignoffRule.ALL_APPROVERS


def test_an_outsider_gets_404(client, engagement, outsider):
    client.force_login(outsider)
    assert client.post(URL, {"rule": SignoffRule.ALL_APPROVERS}).status_code == 404


def test_an_approver_cannot_change_the_rule(client, engagement, approver):
    client.force_login(approver)
    data = {"rule": SignoffRule.NAMED_APPROVERS, "approvers": [approver.username]}
    assert client.post(URL, data).status_code == 403
    assert _rule(engagement) == SignoffRule.ALL_APPROVERS


def test_the_rule_is_changed_by_post_only(client, facilitator):
    client.force_login(facilitator)
    assert client.get(URL).status_code == 405


def test_members_read_the_rule_on_the_people_page(client, engagement, facilitator, observer):
    engagement.set_signoff_rule(SignoffRule.NAMED_APPROVERS, set())
    client.force_login(observer)
    response = client.get(reverse("people", args=["acme"]))
    assert "signed off when these approvers have approved it" in response.content.decode()


def _people_queries(client):
    client.get(reverse("people", args=["acme"]))  # what the page keeps under revisions, kept
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse("people", args=["acme"])).status_code == 200
    return len(captured)


def _grow(engagement, size):
    for _ in range(size):
        approver = make_member(engagement, Role.APPROVER)
        Invitation.objects.create(
            engagement=engagement, email=f"x-{approver}@example.com", role="reviewer"
        )


def test_people_page_queries_do_not_grow_with_approvers_and_invitations(
    client, engagement, facilitator, observer
):
    # For the facilitator and a reader of the named rule: session, user, membership, members,
    # invitations, the approvers of the sign-off form (and of the rule shown to readers).
    engagement.set_signoff_rule(SignoffRule.NAMED_APPROVERS, set())
    _grow(engagement, 1)
    counts = []
    for user in (facilitator, observer):
        client.force_login(user)
        counts.append(_people_queries(client))
    _grow(engagement, 20)
    for user, small in zip((facilitator, observer), counts, strict=True):
        client.force_login(user)
        assert _people_queries(client) == small
