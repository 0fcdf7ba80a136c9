"""Addresses of many pages that differ only in their last part (a version switcher, the dashboard's
next actions: one link per frozen version, 250 at ten times today's largest engagement; the
people page: two forms per member), at the cost of one `reverse()` rather than one each."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from django.urls import reverse
from django.utils.http import RFC3986_SUBDELIMS

# A value no engagement reaches, reversed once and then replaced by each real value.
_PLACEHOLDER = "987654321"
_SAFE = RFC3986_SUBDELIMS + "/~:@"  # what django.urls.resolvers leaves unquoted


def numbered_url(name: str, slug: str) -> Callable[[int], str]:
    """`reverse(name, kwargs={"slug": slug, "number": n})` as a function of `n`."""
    return url_of(name, slug, "number")


def url_of(
    name: str, slug: str, last: str, *, placeholder: object = _PLACEHOLDER, **fixed: object
) -> Callable[[object], str]:
    """`reverse(name, kwargs={"slug": slug, **fixed, last: value})` as a function of `value`,
    quoted as `reverse()` quotes it. The value is the last argument in these paths (only fixed
    words follow it), hence the last occurrence of the placeholder, whatever digits the slug and
    the fixed arguments hold. A path converter other than a number's or a word's needs a
    `placeholder` it accepts (a UUID's: any UUID)."""
    address = reverse(name, kwargs={"slug": slug, **fixed, last: placeholder})
    before, _, after = address.rpartition(str(placeholder))
    return lambda value: f"{before}{quote(str(value), safe=_SAFE)}{after}"
