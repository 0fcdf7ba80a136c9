"""A page of a long list reads its rows in one query where the first page holds them all, and
otherwise counts them as Django's Paginator does."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import make_engagement
from workshops.models import Engagement
from workshops.paging import page_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def five_engagements() -> None:
    for number in range(5):
        make_engagement(slug=f"e{number}", client_organisation=f"Client {number}")


def _engagements():
    return Engagement.objects.order_by("slug")


def _page_and_queries(per_page: int, number: str | None):
    with CaptureQueriesContext(connection) as seen:
        page = page_of(_engagements(), per_page, number)
        slugs = [engagement.slug for engagement in page]
        facts = (page.number, page.paginator.count, page.paginator.num_pages, page.start_index())
    return slugs, facts, len(seen.captured_queries)


@pytest.mark.parametrize("number", [None, "", "1"])
def test_a_list_that_fits_on_the_first_page_is_read_in_one_query(five_engagements, number):
    slugs, facts, queries = _page_and_queries(5, number)
    assert slugs == ["e0", "e1", "e2", "e3", "e4"]
    assert facts == (1, 5, 1, 1)
    assert queries == 1


def test_a_list_one_row_longer_than_a_page_is_counted(five_engagements):
    slugs, facts, queries = _page_and_queries(4, None)
    assert slugs == ["e0", "e1", "e2", "e3"]
    assert facts == (1, 5, 2, 1)
    assert queries == 2  # the page's rows and one more, then the count


@pytest.mark.parametrize(
    ("number", "shown"), [("2", ["e4"]), ("99", ["e4"]), ("abc", ["e0", "e1", "e2", "e3"])]
)
def test_other_pages_are_what_djangos_paginator_gives(five_engagements, number, shown):
    slugs, facts, _ = _page_and_queries(4, number)
    assert slugs == shown


def test_an_empty_list_is_one_empty_page(db):
    slugs, facts, queries = _page_and_queries(5, None)
    assert slugs == []
    assert facts == (1, 0, 1, 0)
    assert queries == 1
