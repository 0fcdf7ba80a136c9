"""Long lists in one call each, where a `{% for %}` loop renders each entry through the template
engine, about ten times slower (hundreds of entries at ten times today's largest engagement):

- `{% options choices selected %}`: the <option>s of a select (the audit trail's items, people);
- `{% switcher_links switcher %}`: the <li> links of the version switcher (one per version);
- `{% next_action_items actions %}`: the next actions (one or two per version), the first one's
  button the primary one."""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.simple_tag
def options(choices: Iterable[Any], selected: str = "") -> SafeString:
    """`choices`: values, or (value, label) pairs; the option whose value is `selected` is marked
    selected."""
    rendered = []
    for choice in choices:
        value, label = choice if isinstance(choice, tuple) else (choice, choice)
        mark = " selected" if value == selected else ""
        rendered.append(f'<option value="{_escaped(value)}"{mark}>{_escaped(label)}</option>')
    return mark_safe("".join(rendered))


@register.simple_tag
def switcher_links(switcher: Iterable[tuple[str, str, bool]]) -> SafeString:
    """`switcher`: (label, address, is the one shown) for each version."""
    rendered = []
    for label, url, current in switcher:
        mark = ' aria-current="page"' if current else ""
        rendered.append(f'<li><a href="{_escaped(url)}"{mark}>{_escaped(label)}</a></li>')
    return mark_safe("".join(rendered))


@register.simple_tag
def next_action_items(actions: Iterable[Any], primary_first: bool = True) -> SafeString:
    """`actions`: NextAction (text, url, link) each; `primary_first`: the first one is the most
    pressing (not on the second page of them)."""
    rendered = []
    for number, action in enumerate(actions):
        primary = " primary" if number == 0 and primary_first else ""
        rendered.append(
            f"<li>{_escaped(action.text)} "
            f'<a class="button{primary}" href="{_escaped(action.url)}">{_escaped(action.link)}</a></li>'
        )
    return mark_safe("".join(rendered))


def _escaped(text: Any) -> str:
    """What `{{ text }}` prints, without the cost of Django's lazy-aware escape per call."""
    return text.__html__() if hasattr(text, "__html__") else html.escape(str(text))
