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
    return value.replace(microsecond=0).isoformat()
