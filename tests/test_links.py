"""Many addresses from one reverse(): each exactly what reverse() gives, whatever the slug and
the value hold."""

import pytest
from django.urls import reverse

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
