"""`{{ user|display_name }}`, or `{{ thread.author|display_name:"Former member" }}` where the
person may be gone."""

from __future__ import annotations

from typing import Any

from django import template

from workshops import people

register = template.Library()


@register.filter
def display_name(user: Any, absent: str = people.ABSENT) -> str:
    return people.display_name(user, absent)
