"""Many addresses from one reverse(): each exactly what reverse() gives, whatever the slug and
the value hold."""

import uuid

import pytest
from django.urls import reverse

from monitoring.live import windows_table_url
from workshops.links import numbered_url, url_of

SLUGS = ["acme", "acme-987654321", "987654321"]


@pytest.mark.parametrize("slug", SLUGS)
def test_a_numbered_address_is_what_reverse_gives(slug):
    version_url = numbered_url("version_artifacts", slug)
    for number in (1, 9, 250, 987654321):
        assert version_url(number) == reverse("version_artifacts", args=[slug, number])


@pytest.mark.parametrize("slug", SLUGS)
@pytest.mark.parametrize("username", ["ann", "ann.o+x@example.com", "zoë-1", "a%b", "987654321"])
def test_an_address_naming_a_person_is_quoted_as_reverse_quotes_it(slug, username):
    role_url = url_of("change_role", slug, "username")
    assert role_url(username) == reverse("change_role", args=[slug, username])


@pytest.mark.parametrize("slug", SLUGS)
@pytest.mark.parametrize("number", [1, 987654321])
def test_an_address_with_fixed_arguments_is_what_reverse_gives(slug, number):
    resolve_url = url_of("comment_resolve", slug, "comment_id", number=number)
    for comment_id in (1, 987654321):
        assert resolve_url(comment_id) == reverse(
            "comment_resolve", args=[slug, number, comment_id]
        )


@pytest.mark.parametrize("slug", SLUGS)
def test_an_address_naming_a_uuid_is_what_reverse_gives(slug):
    case_url = url_of("case_detail", slug, "case_id", placeholder=uuid.UUID(int=0))
    for case_id in (uuid.UUID(int=0), uuid.uuid4()):
        assert case_url(case_id) == reverse("case_detail", args=[slug, case_id])


@pytest.mark.parametrize("slug", SLUGS)
@pytest.mark.parametrize("key", ["latency-p95", "a b", "987654321", "zoë%"])
def test_a_live_windows_address_is_what_reverse_gives(slug, key):
    table_url = windows_table_url(slug)
    for kind, system in [("bound", "claims-bot"), ("drift", "a b"), ("bound", "987654321")]:
        assert table_url(kind, system, key) == reverse(
            "live_windows", args=[slug, kind, system, key]
        )
