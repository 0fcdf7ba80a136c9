"""Property tests over the review forms (freeze, comment, approve, request changes, resolve) and
the query strings of the compare, audit and step pages: no input makes the server fail, refused
input changes nothing, and a forged comment id from another version or engagement is refused."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from hypothesis import example, given
from hypothesis import strategies as st

from escalation.editors import STEP_EDITORS
from escalation.steps import STEPS
from tests.factories import SEEDED, make_member
from tests.framework_content import fill_small_framework
from tests.inputs import (
    database_state,
    few_examples,
    form_data,
    hostile_text,
    rolled_back,
    server_did_not_fail,
)
from workshops.models import Comment, Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def comments(engagement, facilitator, approver, reviewer, outsider):
    """v1 of acme signed off with a thread, v2 in review with a thread and a reply, and a thread
    in another engagement: the ids a forged form could point at."""
    fill_small_framework(engagement.framework)
    first = engagement.freeze_version(facilitator, "First cut")
    first.submit(facilitator, notify=False)
    on_first = first.add_comment(reviewer, "Looks right")
    first.approve(approver, authentication=SEEDED)
    engagement.framework.levels.filter(key="fine-tuning").update(cost_ceiling=55000)
    second = engagement.freeze_version(facilitator, "Higher ceiling")
    second.submit(facilitator, notify=False)
    on_second = second.add_comment(reviewer, "Why higher?", "levels/fine-tuning")
    reply = second.add_comment(facilitator, "Claims volume", parent=on_second)
    elsewhere = outsider.memberships.get().engagement
    fill_small_framework(elsewhere.framework)
    theirs = elsewhere.freeze_version(outsider, "Theirs")
    theirs.submit(outsider, notify=False)
    make_member(elsewhere, Role.REVIEWER, reviewer)
    on_theirs = theirs.add_comment(reviewer, "Elsewhere")
    return {"first": on_first, "second": on_second, "reply": reply, "theirs": on_theirs}


def comment_ids(comments):
    known = [str(c.pk) for c in comments.values()]
    return st.one_of(st.sampled_from(known), st.integers(-(10**20), 10**20).map(str), hostile_text)


def refused(response) -> bool:
    if response.status_code >= 400:
        return True
    return any(m.level_tag == "error" for m in get_messages(response.wsgi_request))


def post_and_check(client, url, data, **extra):
    client.cookies.pop("messages", None)  # only this request's messages say if it was refused
    before = database_state()
    response = client.post(url, data, **extra)
    server_did_not_fail(response)
    if refused(response):
        assert database_state() == before
    return response


# Freezing a version


@few_examples
@given(data=form_data(["summary"], summary=st.just("Tightened the latency limit")))
def test_freeze_never_fails_and_refusals_freeze_nothing(client, facilitator, comments, data):
    client.force_login(facilitator)
    with rolled_back():
        post_and_check(client, "/e/acme/versions/freeze/", data)


# Comments: body, item, parent; a forged parent is refused


@few_examples
@given(data=st.data(), htmx=st.booleans(), number=st.sampled_from([1, 2, 3]))
def test_comment_form_never_fails_and_refusals_post_nothing(
    client, reviewer, comments, data, htmx, number
):
    posted = data.draw(
        form_data(
            ["body", "item", "parent"],
            body=st.just("Please explain"),
            item=st.sampled_from(["", "levels/fine-tuning", "systems/claims-bot", "levels/x"]),
            parent=comment_ids(comments),
        )
    )
    client.force_login(reviewer)
    headers = {"HX-Request": "true"} if htmx else {}
    with rolled_back():
        post_and_check(client, f"/e/acme/versions/{number}/comments/", posted, headers=headers)


@pytest.mark.parametrize("forged", ["first", "theirs", "reply"])
def test_a_reply_to_a_comment_of_another_version_or_engagement_is_refused(
    client, reviewer, comments, forged
):
    client.force_login(reviewer)
    before = Comment.objects.count()
    data = {"body": "Forged", "parent": comments[forged].pk}
    response = client.post("/e/acme/versions/2/comments/", data)
    expected = 302 if forged == "reply" else 422  # a reply to a reply joins its thread
    assert response.status_code == expected
    assert Comment.objects.count() == before + (forged == "reply")


def test_a_reply_to_a_missing_comment_says_so(client, reviewer, comments):
    client.force_login(reviewer)
    response = client.post("/e/acme/versions/2/comments/", {"body": "Hi", "parent": 10**6})
    assert "The comment you replied to is not on this version." in response.content.decode()


# Approving and requesting changes


@few_examples
@given(
    data=form_data(["approve-reason", "changes-reason"], **{"changes-reason": st.just("Lower it")}),
    action=st.sampled_from(["approve", "request-changes"]),
    number=st.sampled_from([1, 2, 3]),
)
@example(data={"changes-reason": " \t\n"}, action="request-changes", number=2)
def test_decisions_never_fail_and_refusals_change_nothing(
    client, approver, comments, data, action, number
):
    client.force_login(approver)
    with rolled_back():
        post_and_check(client, f"/e/acme/versions/{number}/{action}/", data)


# Resolving threads by id, forged or not


@few_examples
@given(data=st.data(), number=st.sampled_from([1, 2]), who=st.sampled_from(["reviewer", "fay"]))
def test_resolving_any_comment_id_never_fails_and_foreign_ids_are_404(
    client, facilitator, reviewer, comments, data, number, who
):
    comment_id = data.draw(
        st.one_of(st.sampled_from([c.pk for c in comments.values()]), st.integers(0, 10**20))
    )
    client.force_login(facilitator if who == "fay" else reviewer)
    with rolled_back():
        url = f"/e/acme/versions/{number}/comments/{comment_id}/resolve/"
        response = post_and_check(client, url, {})
        on_this_version = Comment.objects.filter(pk=comment_id, review__version__number=number)
        if not on_this_version.filter(review__engagement__slug="acme").exists():
            assert response.status_code == 404


# Query strings: compare, audit trail, step pages


def query(names: list[str], **known: st.SearchStrategy[str]) -> st.SearchStrategy[dict]:
    return form_data(names, **known)


@few_examples
@given(params=query(["a", "b"], a=st.sampled_from(["1", "2", "draft"]), b=st.just("draft")))
def test_compare_page_answers_any_query(client, reviewer, comments, params):
    client.force_login(reviewer)
    response = client.get("/e/acme/versions/compare/", params)
    server_did_not_fail(response)
    assert response.status_code in (200, 400, 422)


@few_examples
@given(
    params=query(
        ["item", "person", "verb", "page"],
        item=st.sampled_from(["levels", "levels/fine-tuning"]),
        person=st.sampled_from(["fay", "rae"]),
        verb=st.sampled_from(["review.comment", "created"]),
        page=st.integers(-5, 10**20).map(str),
    )
)
def test_audit_trail_answers_any_filter(client, observer, comments, params):
    client.force_login(observer)
    response = client.get("/e/acme/audit/", params)
    server_did_not_fail(response)
    assert response.status_code in (200, 400)


COLLECTIONS = sorted({c.name for editor in STEP_EDITORS.values() for c in editor.collections})


@few_examples
@given(
    step=st.sampled_from([step.key for step in STEPS]),
    params=query(
        ["add", "edit", "ai_system", "output_type", "embed"],
        add=st.sampled_from([*COLLECTIONS, "nope"]),
        edit=st.sampled_from(
            [f"{name}:{key}" for name in COLLECTIONS for key in ("claims-bot", "fine-tuning", "")]
        ),
        ai_system=st.just("claims-bot"),
        embed=st.just("1"),
    ),
    htmx=st.booleans(),
)
def test_step_pages_answer_any_query(client, facilitator, comments, step, params, htmx):
    client.force_login(facilitator)
    headers = {"HX-Request": "true"} if htmx else {}
    response = client.get(f"/e/acme/steps/{step}/", params, headers=headers)
    server_did_not_fail(response)
    assert response.status_code in (200, 400, 404)


@few_examples
@given(data=form_data(["withdraw-reason"]), number=st.sampled_from([1, 2, 3]))
def test_withdrawal_never_fails_and_refusals_change_nothing(
    client, facilitator, comments, data, number
):
    client.force_login(facilitator)
    with rolled_back():
        post_and_check(client, f"/e/acme/versions/{number}/withdraw/", data)


@few_examples
@given(
    data=form_data(["direction"], direction=st.sampled_from(["up", "down"])),
    target=st.sampled_from(
        [
            "ladder/levels/fine-tuning",
            "failure-modes/failure-modes/x",
            "systems/ai-systems/claims-bot",
        ]
    ),
)
def test_moving_rows_never_fails_and_refusals_change_nothing(
    client, facilitator, comments, data, target
):
    client.force_login(facilitator)
    step, collection, key = target.split("/")
    with rolled_back():
        post_and_check(client, f"/e/acme/steps/{step}/{collection}/{key}/move/", data)


@pytest.mark.parametrize(
    "address", ["/e/acme/audit/?person=%00", "/e/acme/steps/systems/?edit=ai-systems:%00"]
)
def test_a_nul_character_in_a_query_is_refused_with_a_clear_400(client, observer, address):
    client.force_login(observer)
    response = client.get(address)
    assert response.status_code == 400
    assert "NUL character" in response.content.decode()
