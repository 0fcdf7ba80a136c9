"""escalation.formatting as template filters: `{% load formatting %}` then `{{ level.cost_ceiling
|money:level.currency }}`, `{{ percent|percent }}`, `{{ text|or_empty }}`."""

from __future__ import annotations

from typing import Any

from django import template

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
