"""A page of a long list, as Django's Paginator gives it, read in one query where it can be."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet


def page_of(rows: QuerySet[Any], per_page: int, number: str | None) -> Page[Any]:
    """`Paginator(rows, per_page).get_page(number)`, without its COUNT query where the first
    page is asked for and holds the whole list (one row more is read to know): most lists a
    page shows fit on it, and the count then is the rows read. A longer list is counted."""
    paginator = Paginator(rows, per_page)
    if number not in (None, "", "1"):
        return paginator.get_page(number)
    first = list(rows[: per_page + 1])
    if len(first) <= per_page:
        paginator.count = len(first)  # Paginator.count is a cached_property: this is it
    return Page(first[:per_page], 1, paginator)
