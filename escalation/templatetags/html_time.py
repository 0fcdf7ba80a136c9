"""The machine-readable value of `<time datetime>`, written one way for every page."""

import datetime

from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def datetime_attribute(value: datetime.datetime) -> str:
    """ISO 8601 to the second: HTML allows at most three fractional digits, Python writes six."""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return to_the_second(value)


def to_the_second(value: datetime.datetime) -> str:
    """`value` in ISO 8601 to the second, in the zone it carries (`datetime_attribute` without
    the conversion to the active zone, for a caller that has converted it already)."""
    return value.replace(microsecond=0).isoformat()
