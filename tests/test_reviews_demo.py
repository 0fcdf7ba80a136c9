"""The demo ships with a signed-off v1, a v2 in review with comments, and a working draft."""

from escalation.document import build_document, document_sha256
from workshops.demo import load_demo
from workshops.models import Engagement, Review, ReviewState


def _demo_reviews():
    return {r.version.number: r for r in Review.objects.filter(engagement__slug="demo")}


def test_demo_has_a_signed_off_first_version(db):
    load_demo()
    first = _demo_reviews()[1]
    assert (first.state, first.signed_off_at is not None) == (ReviewState.APPROVED, True)


def test_demo_has_a_second_version_in_review_with_a_discussion(db):
    load_demo()
    second = _demo_reviews()[2]
    assert second.state == ReviewState.IN_REVIEW
    assert second.comments.filter(parent__isnull=False).exists()


def test_demo_working_draft_has_moved_past_the_last_version(db):
    load_demo()
    demo = Engagement.objects.get(slug="demo")
    assert document_sha256(build_document(demo.framework)) != _demo_reviews()[2].version.sha256


def test_demo_versions_load_once(db):
    load_demo()
    load_demo()
    assert sorted(_demo_reviews()) == [1, 2]
