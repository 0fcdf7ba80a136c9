"""escalation.formatting as template filters: `{% load formatting %}` then `{{ level.cost_ceiling
|money:level.currency }}`, `{{ percent|percent }}`, `{{ text|or_empty }}`."""

from __future__ import annotations

import datetime
import re
from typing import Any

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from escalation import formatting

register = template.Library()


@register.filter
def money(amount: Any, currency: str) -> str:
    return formatting.money(amount, currency)


@register.filter
def number(value: Any) -> str:
    return formatting.number(value)


@register.filter
def percent(value: Any) -> str:
    return formatting.percent(value)


@register.filter
def or_empty(value: Any) -> str:
    return formatting.or_empty(value)


@register.filter
def days(count: int | None) -> str:
    return formatting.days(count)


@register.filter
def day_date(value: Any) -> str:
    return formatting.date(value)


@register.filter
def weekday_date(value: datetime.date) -> str:
    return formatting.weekday_date(value)


@register.filter(expects_localtime=True)
def date_time(value: datetime.datetime | None) -> str:
    """`{{ comment.created_at|date_time }}`: in the active zone, nothing for no value (as
    Django's `date` filter)."""
    return formatting.date_time(value) if value else ""


@register.filter
def breakable_address(address: str) -> SafeString:
    """An email address that may wrap after its "@" and each dot (a line break there reads as
    the address, where one mid-word does not): the escaped text with <wbr> at those points."""
    return mark_safe(re.sub(r"([@.])", r"\1<wbr>", escape(address)))  # noqa: S308 (escaped)
