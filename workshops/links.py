"""Addresses of many numbered pages at once (a version switcher, the dashboard's next actions: one
link per frozen version, 250 at ten times today's largest engagement), at the cost of one
`reverse()` rather than one each."""

from __future__ import annotations

from collections.abc import Callable

from django.urls import reverse

# A number no engagement reaches, reversed once and then replaced by each real number.
_PLACEHOLDER = 987_654_321


def numbered_url(name: str, slug: str) -> Callable[[int], str]:
    """`reverse(name, kwargs={"slug": slug, "number": n})` as a function of `n`. The number is
    the last integer in these paths (only words follow it), hence the last occurrence of the
    placeholder, whatever digits the slug holds."""
    address = reverse(name, kwargs={"slug": slug, "number": _PLACEHOLDER})
    before, _, after = address.rpartition(str(_PLACEHOLDER))
    return lambda number: f"{before}{number}{after}"
