"""The access sweep: every URL in the URLconf, as every kind of visitor, for GET and POST.

Each URL name has a declared rule below. The sweep resolves the URL's parameters against the demo
(engagement `demo`; `outsider` facilitates `pilot` and has no part in `demo`), requests it as
anonymous, outsider, and each role, and checks the answer:

- anonymous: redirected to the login page (unless the page is public);
- outsider (a member of another engagement): 404, the engagement's existence is not revealed;
- a member whose role lacks the capability: 403;
- a member with it, or anyone on a public page: neither refused nor an error;
- a verb the URL does not take: 405.

A URL without a rule fails the suite, so a new page cannot ship unguarded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse

from escalation.models import EscalationLevel, FrameworkVersion, Pack, PackStatus
from monitoring.cases import open_review_case
from monitoring.models import ApiToken, CaseKind, SystemLevel
from monitoring.results import version_in_force
from workshops.demo import load_demo
from workshops.models import Capability, Comment, Engagement, Invitation

PUBLIC = "public"  # anyone, logged in or not
LOGGED_IN = "logged_in"  # any logged-in user; not tied to an engagement
VIEW, COMMENT, APPROVE, EDIT, MANAGE = (
    Capability.VIEW,
    Capability.COMMENT,
    Capability.APPROVE,
    Capability.EDIT,
    Capability.MANAGE_PEOPLE,
)
ROLE_CAPABILITIES = {
    "facilitator": {VIEW, COMMENT, EDIT, MANAGE},
    "approver": {VIEW, COMMENT, APPROVE},
    "reviewer": {VIEW, COMMENT},
    "observer": {VIEW},
}
VISITORS = ["anonymous", "outsider", "observer", "approver", "reviewer", "facilitator"]


@dataclass(frozen=True)
class Rule:
    """Who may GET and who may POST; None: the verb is not allowed (405)."""

    get: str | None
    post: str | None
    # Visitors who pass the rule above but are refused for another reason (403).
    refused_for: tuple[str, ...] = ()
    # URL parameters that differ from PARAMETERS for this URL.
    params: tuple[tuple[str, Any], ...] = ()


EXPECTATIONS: dict[str, Rule] = {
    # Django's auth views, as shipped.
    "login": Rule(get=PUBLIC, post=PUBLIC),
    "logout": Rule(get=None, post=LOGGED_IN),
    "password_change": Rule(get=LOGGED_IN, post=LOGGED_IN),
    "password_change_done": Rule(get=LOGGED_IN, post=None),
    "password_reset": Rule(get=PUBLIC, post=PUBLIC),
    "password_reset_done": Rule(get=PUBLIC, post=None),
    "password_reset_confirm": Rule(get=PUBLIC, post=PUBLIC),
    "password_reset_complete": Rule(get=PUBLIC, post=None),
    # Ours.
    "healthz": Rule(get=PUBLIC, post=None),
    "home": Rule(get=LOGGED_IN, post=None),
    "dashboard": Rule(get=VIEW, post=None),
    "next_actions": Rule(get=VIEW, post=None),
    # Opening an engagement is a site permission of consultants (the demo's facilitator and
    # outsider), not of client stakeholders who joined by invitation.
    "engagement_new": Rule(
        get=LOGGED_IN, post=LOGGED_IN, refused_for=("observer", "approver", "reviewer")
    ),
    "engagement_settings": Rule(get=EDIT, post=EDIT),
    "engagement_status": Rule(get=None, post=EDIT),
    "days": Rule(get=VIEW, post=None),
    "current_day": Rule(get=VIEW, post=None),
    "day": Rule(get=VIEW, post=None),
    "day_notes": Rule(get=None, post=EDIT),
    "people": Rule(get=VIEW, post=None),
    "invite": Rule(get=None, post=MANAGE),
    "change_role": Rule(get=None, post=MANAGE),
    "remove_member": Rule(get=None, post=MANAGE),
    # Public to its invitee; any signed-in account with another address is refused (the
    # sweep's invitation is for new@example.com, nobody's address here).
    "accept_invitation": Rule(
        get=PUBLIC,
        post=PUBLIC,
        refused_for=("outsider", "observer", "approver", "reviewer", "facilitator"),
    ),
    "signoff_rule": Rule(get=None, post=MANAGE),
    "cancel_invitation": Rule(get=None, post=MANAGE),
    "resend_invitation": Rule(get=None, post=MANAGE),
    "versions": Rule(get=VIEW, post=None),
    "version_freeze": Rule(get=None, post=EDIT),
    "version_compare": Rule(get=VIEW, post=None),
    "version_detail": Rule(get=VIEW, post=None),
    "version_submit": Rule(get=None, post=EDIT),
    "version_withdraw": Rule(get=None, post=EDIT),
    "version_approve": Rule(get=None, post=APPROVE),
    "version_request_changes": Rule(get=None, post=APPROVE),
    "version_comment": Rule(get=None, post=COMMENT),
    # The comment swept is the reviewer's: only its author or a facilitator may resolve it.
    "comment_resolve": Rule(get=None, post=COMMENT, refused_for=("approver",)),
    "audit": Rule(get=VIEW, post=None),
    "step": Rule(get=VIEW, post=None),
    "step_settings": Rule(get=None, post=EDIT, params=(("step_key", "governance"),)),
    "step_item_add": Rule(get=None, post=EDIT),
    "step_item_edit": Rule(get=None, post=EDIT),
    "step_item_delete": Rule(get=None, post=EDIT),
    "step_item_move": Rule(get=None, post=EDIT),
    "checks": Rule(get=VIEW, post=None),
    # One rule for every draft export: files of the working draft and of a version not signed
    # off (the swept v2 is in review) are only for people taking part in the review; observers
    # read the drafts on the pages.
    "framework_json": Rule(get=COMMENT, post=None),
    **{
        f"{prefix}{name}": Rule(get=VIEW, post=None)
        for prefix in ("", "version_")
        for name in ("artifacts", "pack")
    },
    **{
        f"{prefix}{name}": Rule(get=COMMENT, post=None)
        for prefix in ("", "version_")
        for name in (
            "ladder_svg",
            "ladder_png",
            "register_csv",
            "matrix_csv",
            "ladder_csv",
            "review_cycle_csv",
            "review_cycle_ics",
            "document_json",
        )
    },
    # Monitoring files exist only for a signed-off version (the demo's v1): every member's.
    "version_monitoring_file": Rule(
        get=VIEW, post=None, params=(("number", 1), ("filename", "prometheus-rules.yml"))
    ),
    "pack_generate": Rule(get=None, post=COMMENT),
    "version_pack_generate": Rule(get=None, post=COMMENT),
    "pack_download": Rule(get=COMMENT, post=None),
    # The live framework: members read it; facilitators manage its tokens and upload points.
    "live": Rule(get=VIEW, post=None),
    # A bound's recent windows as a table (the live page's link under its chart): members.
    "live_windows": Rule(
        get=VIEW,
        post=None,
        params=(
            ("kind", "bound"),
            ("ai_system", "support-assistant"),
            ("key", "support-assistant-chat-answer-error-rate"),
        ),
    ),
    "live_upload": Rule(get=None, post=EDIT),
    "live_evaluate": Rule(get=None, post=EDIT),
    "api_tokens": Rule(get=EDIT, post=EDIT),
    "api_token_revoke": Rule(get=None, post=EDIT),
    "live_external_event": Rule(get=None, post=EDIT),
    # An escalation case: members read it; only an approver the level names decides (the swept
    # case names the demo's approver), never a facilitator on the owner's behalf.
    "case_detail": Rule(get=VIEW, post=None),
    **{
        name: Rule(get=None, post=APPROVE)
        for name in ("case_approve", "case_decline", "case_close", "case_roll_back")
    },
    # The metric API takes no session: any caller reaches it, and without a token of the
    # engagement gets 401 (tests/test_monitoring_intake.py).
    "api_metrics": Rule(get=None, post=PUBLIC),
    "api_otlp_metrics": Rule(get=None, post=PUBLIC),
    "api_cases": Rule(get=PUBLIC, post=None),
    # Starting an engagement from a file is opening one: consultants only.
    "import_framework": Rule(
        get=LOGGED_IN, post=LOGGED_IN, refused_for=("observer", "approver", "reviewer")
    ),
}

# Values for URL parameters, by name, resolved against the demo (callables are called with it).
PARAMETERS: dict[str, Any] = {
    "slug": "demo",
    "uidb64": "MQ",
    "number": 2,  # a day of the plan; the demo's v2, in review
    "comment_id": lambda: (
        Comment.objects.get(
            review__version__number=2,
            review__engagement__slug="demo",
            author__username="reviewer",
            parent=None,
        ).id
    ),
    "username": "observer",
    "public_id": lambda: (
        Pack.objects.create(
            framework=Engagement.objects.get(slug="demo").framework,
            version=FrameworkVersion.objects.get(framework__engagement__slug="demo", number=2),
            status=PackStatus.READY,
            signed=False,
            request_key="access-sweep",
            pdf=b"%PDF-1.7 draft pack of the sweep",
        ).public_id
    ),
    "step_key": "ladder",
    "collection": "levels",
    "item_key": lambda: (
        EscalationLevel.objects.filter(framework__engagement__slug="demo")
        .order_by("position")
        .first()
        .key
    ),
    "token": lambda: (
        Invitation.objects.create(
            engagement=Engagement.objects.get(slug="demo"), email="new@example.com", role="reviewer"
        ).token
    ),
    "token_id": lambda: (
        ApiToken.issue(Engagement.objects.get(slug="demo"), "access sweep")[0].public_id
    ),
    "case_id": lambda: _fine_tuning_case().public_id,
    "invitation_id": lambda: (
        Invitation.objects.create(
            engagement=Engagement.objects.get(slug="demo"),
            email="later@example.com",
            role="observer",
        ).pk
    ),
}


def _fine_tuning_case() -> Any:
    """A review case of the demo's extraction pipeline, which stands at few-shot enrichment: it
    proposes fine-tuning, whose approval group names the demo's approver (Arjun Appleby)."""
    engagement = Engagement.objects.get(slug="demo")
    SystemLevel.objects.create(
        engagement=engagement, ai_system="document-extraction", level_key="few-shot-enrichment"
    )
    return open_review_case(
        engagement,
        version_in_force(engagement),
        ai_system="document-extraction",
        kind=CaseKind.EXTERNAL_EVENT,
        trigger_key="",
        reason="The access sweep",
    )


def _url_patterns(
    patterns: list[Any], namespace: str | None = None, prefix_params: tuple[str, ...] = ()
) -> list[tuple[str, tuple[str, ...]]]:
    """(URL name, names of its parameters) for every named URL, through includes."""
    found = []
    for pattern in patterns:
        params = prefix_params + tuple(pattern.pattern.regex.groupindex)
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                continue  # Django's admin guards itself (staff only); swept separately below.
            found += _url_patterns(pattern.url_patterns, pattern.namespace or namespace, params)
        elif pattern.name:
            name = f"{namespace}:{pattern.name}" if namespace else pattern.name
            found.append((name, params))
    return found


ALL_URLS = _url_patterns(get_resolver().url_patterns)


def test_every_url_has_a_declared_rule():
    missing = sorted({name for name, _ in ALL_URLS} - set(EXPECTATIONS))
    assert missing == [], f"URLs without an access rule in EXPECTATIONS: {missing}"


def _url_for(name: str, params: tuple[str, ...]) -> str:
    known = PARAMETERS | dict(EXPECTATIONS[name].params)
    unknown = [param for param in params if param not in known]
    assert not unknown, f"{name}: no value for URL parameters {unknown} in PARAMETERS"
    values = {param: known[param] for param in params}
    return reverse(name, kwargs={k: v() if callable(v) else v for k, v in values.items()})


def _client_for(visitor: str, users: dict[str, Any]) -> Client:
    client = Client(raise_request_exception=False)
    if visitor != "anonymous":
        client.force_login(users[visitor])
    return client


def _expected(rule: Rule, needs: str | None, visitor: str) -> str:
    if needs == PUBLIC:
        return "allowed"
    public_page = PUBLIC in (rule.get, rule.post)
    if visitor == "anonymous" and not public_page:
        return "login"
    if needs is None:
        return "405"
    if needs == LOGGED_IN:
        return "allowed"
    if visitor == "outsider":
        return "404"
    return "allowed" if needs in ROLE_CAPABILITIES[visitor] else "403"


def _outcome(response: Any) -> str:
    if response.status_code == 302 and "/accounts/login/?next=" in response["Location"]:
        return "login"
    if response.status_code in (403, 404, 405):
        return str(response.status_code)
    if response.status_code >= 500:
        return f"error {response.status_code}"
    return "allowed"


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(EXPECTATIONS))
def test_url_answers_each_visitor_as_declared(name, django_user_model):
    load_demo()
    users = {user.username: user for user in django_user_model.objects.all()}
    url = _url_for(name, dict(ALL_URLS)[name])
    rule = EXPECTATIONS[name]
    mismatches = []
    # The facilitator goes last: its POSTs may change the demo for the visitors after it.
    for visitor in VISITORS:
        for method, needs in (("GET", rule.get), ("POST", rule.post)):
            response = getattr(_client_for(visitor, users), method.lower())(url)
            expected, got = _expected(rule, needs, visitor), _outcome(response)
            if needs is not None and visitor in rule.refused_for:
                expected = "403"
            if expected != got:
                mismatches.append(f"{method} {url} as {visitor}: expected {expected}, got {got}")
    assert mismatches == []


@pytest.mark.django_db
def test_admin_is_for_staff_only(django_user_model):
    load_demo()
    client = Client()
    client.force_login(django_user_model.objects.get(username="facilitator"))
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
