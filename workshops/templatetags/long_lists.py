"""Long lists in one call each, where a `{% for %}` loop renders each entry through the template
engine, about ten times slower (hundreds of entries at ten times today's largest engagement):

- `{% options choices selected %}`: the <option>s of a select (the audit trail's items, people);
- `{% switcher_links switcher %}`: the <li> links of the version switcher (one per version);
- `{% next_action_items actions %}`: the next actions (one or two per version), the first one's
  button the primary one;
- `{% version_contents contents %}`: a version page's contents, each section with its counts and
  its items on the page (a hundred);
- `{% thread_articles threads may_comment replying comment_url %}`: a version page's comment
  threads (up to fifty on a page of the whole version's discussion), each with its reply link, or
  its reply form open;
- `{% member_rows rows roles can_manage engagement_title %}`: the people page's table rows, each
  member's two forms (role and removal) included for those who manage people;
- `{% day_rows rows %}` and `{% activity_items activities %}`: the dashboard's days (ten to
  twenty) and its latest activity;
- `{% audit_rows activities %}`: a page of the audit trail (fifty changes), each with what it
  changed from what to what;
- `{% version_rows rows %}`: a page of the versions list (fifty versions), each row's cells
  printed once per page of versions, but for its state and open threads."""

from __future__ import annotations

import html
import zoneinfo
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from django import template
from django.template.defaulttags import CsrfTokenNode
from django.utils import timezone
from django.utils.formats import localize
from django.utils.safestring import SafeString, mark_safe

from escalation import formatting
from escalation.templatetags.html_time import to_the_second
from workshops.people import display_name

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


@register.simple_tag
def version_contents(contents: Iterable[Any]) -> SafeString:
    """`contents`: workshops.views.reviews.ContentsEntry each (a section, its comments, its items'
    lines on the page: runs printed whole, and items with threads, whose count is added)."""
    rendered = []
    for entry in contents:
        section = entry.section
        counts = f"{formatting.number(section.items)} item{_plural(section.items)}"
        if section.changed:
            counts += f", {formatting.number(section.changed)} changed"
        if entry.comments:
            counts += f", {formatting.number(entry.comments)} comment{_plural(entry.comments)}"
        lines = ""
        if entry.shown:
            lines = "".join(
                shown.html
                if hasattr(shown, "html")
                else f'{shown.printed.contents_open} <span class="muted">'
                f"({len(shown.threads)} comment{_plural(len(shown.threads))})</span></li>"
                for shown in entry.shown
            )
            lines = f"\n      <ul>{lines}</ul>"
        rendered.append(
            f'\n    <li><a href="{_escaped(section.href)}">{_escaped(section.title)}</a> '
            f'<span class="muted">({counts})</span>{lines}</li>'
        )
    return mark_safe("".join(rendered))


def _plural(count: int) -> str:
    """What `{{ count|pluralize }}` prints."""
    return "" if count == 1 else "s"


@register.simple_tag(takes_context=True)
def thread_articles(
    context: Any, threads: Iterable[Any], may_comment: bool, replying: int | None, comment_url: str
) -> SafeString:
    """`threads`: workshops.views.reviews.ShownComment each (a first comment with its replies);
    who `may_comment` gets a reply link under each open thread, or the reply form of the thread
    `replying` (its id) open; `comment_url`: where replies are posted."""
    rendered = []
    for thread in threads:
        resolved = " thread-resolved" if thread.resolved_at else ""
        parts = [
            f'\n<article class="thread{resolved}" id="comment-{thread.pk}">\n  '
            f"{thread.comments_html}\n  "
        ]
        if may_comment and not thread.resolved_at:
            if thread.pk == replying:
                parts.append(_reply_form(context, thread, comment_url))
            else:
                # The forms open on asking: in place with htmx, or the page with ?reply= open.
                reply_url = _escaped(thread.reply_url)
                parts.append(
                    f'\n  <p class="reply-link no-print"><a href="{reply_url}#comment-{thread.pk}" '
                    f'data-hx-get="{reply_url}" data-hx-target="closest .discussion">'
                    "Reply or resolve</a></p>\n  "
                )
        parts.append("\n</article>")
        rendered.append("".join(parts))
    return mark_safe("".join(rendered))


def _reply_form(context: Any, thread: Any, comment_url: str) -> str:
    csrf_input = CsrfTokenNode().render(context)
    url = _escaped(comment_url)
    return (
        '\n  <details class="reply-form" open>\n    <summary>Reply</summary>\n'
        f'    <form method="post" action="{url}" data-hx-post="{url}" '
        'data-hx-target="closest .discussion">\n'
        f"      {csrf_input}\n"
        f'      <input type="hidden" name="parent" value="{thread.pk}">\n'
        f'      <input type="hidden" name="item" value="{_escaped(thread.anchor)}">\n'
        f'      <div class="field"><label for="reply-{thread.pk}">Reply</label>'
        f'<textarea id="reply-{thread.pk}" name="body" rows="2" required autofocus></textarea>'
        "</div>\n"
        '      <button type="submit" class="button">Post reply</button>\n    </form>\n'
        f'    <form method="post" action="{_escaped(thread.resolve_url)}" class="inline-form">\n'
        f'      {csrf_input}<button type="submit" class="link-button">Resolve thread</button>\n'
        "    </form>\n  </details>\n  "
    )


@register.simple_tag(takes_context=True)
def member_rows(
    context: Any,
    rows: Iterable[Any],
    roles: list[tuple[str, str]],
    can_manage: bool,
    engagement_title: str,
) -> SafeString:
    """`rows`: workshops.views.people.MemberRow each; `roles`: the role select's choices."""
    csrf_input = CsrfTokenNode().render(context)  # what {% csrf_token %} prints, once
    role_options = {role: options(roles, role) for role, _label in roles}
    title = _escaped(engagement_title)
    rendered = []
    for membership, name, role_url, remove_url in rows:
        name_html = _escaped(name)
        cells = [
            f"\n    <tr>\n      <td>{name_html}</td>\n"
            f"      <td>{_escaped(membership.user.email)}</td>\n"
            f"      <td>{_escaped(membership.get_role_display())}</td>\n"
        ]
        if can_manage:
            field_id = f"role-{membership.pk}"
            cells.append(
                '      <td>\n        <div class="actions">\n'
                f'        <form method="post" action="{_escaped(role_url)}" class="role-form">\n'
                f"          {csrf_input}\n"
                f'          <label for="{field_id}" class="visually-hidden">Role of '
                f"{_escaped(membership.user.username)}</label>\n"
                f'          <select name="role" id="{field_id}">\n'
                f"            {role_options[membership.role]}\n          </select>\n"
                '          <button type="submit" class="button">Change role</button>\n'
                "        </form>\n"
                f'        <form method="post" action="{_escaped(remove_url)}" class="inline-form" '
                f'data-confirm="Remove {name_html} from {title}? They lose access at once.">\n'
                f"          {csrf_input}"
                f'<button type="submit" class="button danger">Remove {name_html}</button>\n'
                "        </form>\n        </div>\n      </td>\n"
            )
        cells.append("    </tr>")
        rendered.append("".join(cells))
    return mark_safe("".join(rendered))


@register.simple_tag
def day_rows(rows: Iterable[tuple[Any, str]]) -> SafeString:
    """`rows`: (workshops.progress.DayProgress, its day page's address) for each day."""
    rendered = []
    for row, url in rows:
        day = row.day
        rendered.append(
            f'\n      <tr>\n        <td class="num">{day.number}</td>\n'
            f'        <td class="nowrap">{formatting.weekday_date(day.date)}</td>\n'
            f'        <td><a href="{_escaped(url)}">{_escaped(day.title)}</a></td>\n'
            f'        <td><span class="badge badge-{row.status}">{row.status}</span></td>\n'
            "      </tr>"
        )
    return mark_safe("".join(rendered))


@register.simple_tag
def activity_items(activities: Iterable[Any], zone: str) -> SafeString:
    """`activities`: workshops.views.engagements.ActivityLine each, shown in the time `zone`."""
    where = zoneinfo.ZoneInfo(zone)
    rendered = []
    for activity in activities:
        local = activity.created_at.astimezone(where)
        rendered.append(
            f'\n      <li><time datetime="{to_the_second(local)}">'
            f"{formatting.day_time(local)}</time> "
            f"{_escaped(activity.actor_name)}: {_escaped(activity.summary)}</li>"
        )
    return mark_safe("".join(rendered))


@register.simple_tag
def audit_rows(activities: Iterable[Any]) -> SafeString:
    """`activities`: workshops.models.Activity each, its actor read with it; times in the
    active zone, as Django's `date` filter gives them."""
    rendered = []
    for activity in activities:
        anchor = activity.anchor
        item = f'<a href="?item={_escaped(quote(anchor))}">{_escaped(anchor)}</a>' if anchor else ""
        rendered.append(
            "\n    <tr>\n"
            '      <td class="nowrap">'
            f"{formatting.date_time_seconds(timezone.localtime(activity.created_at))}</td>\n"
            f"      <td>{_escaped(display_name(activity.actor, '—'))}</td>\n"
            f"      <td>{_escaped(activity.summary)}<br>"
            f'<span class="muted">{_escaped(activity.verb)}</span></td>\n'
            f"      <td>{item}</td>\n"
            f'      <td class="audit-changes">{_changes(activity.changes)}</td>\n'
            "    </tr>"
        )
    return mark_safe("".join(rendered))


@register.simple_tag
def version_rows(rows: Iterable[Any]) -> SafeString:
    """`rows`: workshops.views.reviews.VersionRow each (the review, its printed cells)."""
    rendered = []
    for row in rows:
        review, printed = row.review, row.printed
        state = "Frozen, not in review" if review.state == "draft" else review.get_state_display()
        signed = (
            ' <span class="badge badge-signed_off">Signed off</span>'
            if review.signed_off_at
            else ""
        )
        ending = printed.ending_signed if review.signed_off_at else printed.ending
        rendered.append(
            f"\n    <tr>\n      {printed.version_cell}\n"
            f'      <td><span class="badge badge-{_escaped(review.state)}">{_escaped(state)}'
            f"</span>{signed}</td>\n"
            f"      {printed.frozen_cells}\n"
            f'      <td class="num">{review.open_threads}</td>\n'
            f"      {ending}\n    </tr>"
        )
    return mark_safe("".join(rendered))


def _changes(changes: Any) -> str:
    """Each changed field: its name, what it was and what it became ("—" for nothing)."""
    if not isinstance(changes, dict):
        return ""
    return "".join(
        f"<div><strong>{_escaped(name)}</strong>: {_value(change, 'before')} → "
        f"{_value(change, 'after')}</div>"
        for name, change in changes.items()
    )


def _value(change: Any, side: str) -> str:
    """One side of a change as `{{ change.before }}` prints it (numbers as Django localizes
    them), "—" when there is none."""
    value = change.get(side) if isinstance(change, dict) else None
    return "—" if value is None or value == "" else _escaped(localize(value))


def _escaped(text: Any) -> str:
    """What `{{ text }}` prints, without the cost of Django's lazy-aware escape per call."""
    return text.__html__() if hasattr(text, "__html__") else html.escape(str(text))
