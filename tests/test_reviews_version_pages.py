"""A large version's page prints its framework a hundred items at a time, with the contents of
the whole version (items, changes and comments per section) on every page."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils.safestring import SafeString

from escalation import frozen
from escalation.large_framework import fill_large_framework
from escalation.presentation import ReadableField, ReadableItem
from workshops.views.reviews import (
    ContentsEntry,
    ItemOnPage,
    PrintedItem,
    PrintedRun,
    PrintedSection,
    ShownComment,
)


@pytest.fixture
def review(engagement: Any, facilitator: Any, db: Any) -> Any:
    fill_large_framework(engagement.framework, systems=40, levels=3, failure_modes=3)
    return engagement.freeze_version(facilitator, "Large")


def _anchors(review: Any) -> list[str]:
    return [item.anchor for s in frozen.sections(review.version) for item in s.items]


def _url(engagement: Any, query: str = "") -> str:
    return reverse("version_detail", args=[engagement.slug, 1]) + query


def test_a_large_version_shows_a_hundred_items_a_page(client, engagement, facilitator, review):
    client.force_login(facilitator)
    html = client.get(_url(engagement)).content.decode()
    assert f"Showing items 1–100 of {len(_anchors(review))}" in html
    assert f'data-item="{_anchors(review)[99]}"' in html
    assert f'data-item="{_anchors(review)[100]}"' not in html


def test_the_second_page_goes_on_where_the_first_stopped(client, engagement, facilitator, review):
    client.force_login(facilitator)
    html = client.get(_url(engagement, "?items=2")).content.decode()
    assert f'data-item="{_anchors(review)[100]}"' in html
    assert f'data-item="{_anchors(review)[99]}"' not in html


def test_the_contents_link_every_section_to_the_page_it_starts_on(
    client, engagement, facilitator, review
):
    start = _anchors(review).index(
        next(item.anchor for item in frozen.sections(review.version)[3].items)
    )
    client.force_login(facilitator)
    html = client.get(_url(engagement)).content.decode()
    key = frozen.sections(review.version)[3].key
    assert f'href="?items={start // 100 + 1}#section-{key}">' in html
    assert 'href="#section-systems">' in html  # on this page: no need to load another


def test_a_comment_on_an_item_of_a_later_page_comes_back_to_that_page(
    client, engagement, facilitator, review
):
    client.force_login(facilitator)
    anchor = _anchors(review)[150]
    url = reverse("version_comment", args=[engagement.slug, 1])
    response = client.post(url, {"body": "Why this bound?", "item": anchor})
    comment = review.comments.get()
    assert response.url == _url(engagement, f"?items=2#comment-{comment.pk}")


def test_the_comment_link_of_an_item_of_a_later_page_opens_that_page(
    client, engagement, facilitator, review
):
    client.force_login(facilitator)
    anchor = _anchors(review)[150]
    html = client.get(_url(engagement), {"comment": anchor}).content.decode()
    assert "Showing items 101–200" in html
    assert f'data-item="{anchor}"' in html and " autofocus>" in html


def test_an_items_fields_print_as_the_template_printed_them():
    item = ReadableItem(
        "levels/x", "X", [ReadableField("Rule", "a < b\nthen c & d"), ReadableField("N", "3")], True
    )
    template = Template(
        '{% for field in item.fields %}<tr><th scope="row">{{ field.label }}</th>'
        "<td>{{ field.value|linebreaksbr }}</td></tr>{% endfor %}"
    )
    assert frozen._fields_html(item) == template.render(Context({"item": item}))


# The thread partial that version pages printed before the threads were printed in Python.
THREAD_TEMPLATE = """{% load l10n %}{% for thread in threads %}{% localize off %}
<article class="thread{% if thread.resolved_at %} thread-resolved{% endif %}" id="comment-{{ thread.pk }}">
  {{ thread.comments_html }}
  {% if may_comment and not thread.resolved_at %}{% if thread.pk == replying %}
  <details class="reply-form" open>
    <summary>Reply</summary>
    <form method="post" action="{{ comment_url }}" data-hx-post="{{ comment_url }}" data-hx-target="closest .discussion">
      {% csrf_token %}
      <input type="hidden" name="parent" value="{{ thread.pk }}">
      <input type="hidden" name="item" value="{{ thread.anchor }}">
      <div class="field"><label for="reply-{{ thread.pk }}">Reply</label><textarea id="reply-{{ thread.pk }}" name="body" rows="2" required autofocus></textarea></div>
      <button type="submit" class="button">Post reply</button>
    </form>
    <form method="post" action="{{ thread.resolve_url }}" class="inline-form">
      {% csrf_token %}<button type="submit" class="link-button">Resolve thread</button>
    </form>
  </details>
  {% else %}
  <p class="reply-link no-print"><a href="{{ thread.reply_url }}#comment-{{ thread.pk }}" data-hx-get="{{ thread.reply_url }}" data-hx-target="closest .discussion">Reply or resolve</a></p>
  {% endif %}{% endif %}
</article>{% endlocalize %}{% endfor %}"""


@pytest.mark.parametrize("may_comment", [True, False])
def test_comment_threads_print_as_the_template_printed_them_every_text_escaped(may_comment):
    hostile = "<script>alert(\"x\")</script> & 'q'\nline two"
    moment = datetime.datetime(2026, 11, 2, 9, 30, tzinfo=datetime.UTC)
    threads = [
        ShownComment(
            1000 + number,
            f'levels/{hostile}"',
            hostile,
            moment,
            hostile,
            replies=[ShownComment(2000 + number, "", hostile, moment, None)],
            resolved_at=moment if number == 2 else None,
            resolved_by=hostile if number == 2 else None,
            resolve_url=f"/resolve/{number}?a&b",
            reply_url=f'/page?reply={number}&x="',
        )
        for number in range(3)
    ]
    context = {
        "threads": threads,
        "may_comment": may_comment,
        "replying": 1001,
        "comment_url": '/comment?a&b"',
        "csrf_token": "token-of-the-request",
    }
    printed = Template(
        "{% load long_lists %}{% thread_articles threads may_comment replying comment_url %}"
    ).render(Context(context))

    assert printed == Template(THREAD_TEMPLATE).render(Context(context))
    assert "<script>" not in printed and printed.count("&lt;script&gt;") >= 6


# The contents loop that version pages printed before the contents were printed in Python.
CONTENTS_TEMPLATE = """{% load formatting %}{% for entry in contents %}
    <li><a href="{{ entry.section.href }}">{{ entry.section.title }}</a> <span class="muted">({{ entry.section.items|number }} item{{ entry.section.items|pluralize }}{% if entry.section.changed %}, {{ entry.section.changed|number }} changed{% endif %}{% if entry.comments %}, {{ entry.comments|number }} comment{{ entry.comments|pluralize }}{% endif %})</span>{% if entry.shown %}
      <ul>{% for entry in entry.shown %}{% if entry.html %}{{ entry.html }}{% else %}{{ entry.printed.contents_open }} <span class="muted">({{ entry.threads|length }} comment{{ entry.threads|length|pluralize }})</span></li>{% endif %}{% endfor %}</ul>{% endif %}</li>
  {% endfor %}"""


def test_a_versions_contents_print_as_the_template_printed_them_every_text_escaped():
    hostile = "<script>alert(\"x\")</script> & 'q'\nline two"
    moment = datetime.datetime(2026, 11, 2, 9, 30, tzinfo=datetime.UTC)
    item = ReadableItem("levels/x", hostile, [], True)
    printed = PrintedItem(
        item, True, *(SafeString(f"<li>{part}") for part in ("h", "e", "c", "open", "line"))
    )
    with_threads = ItemOnPage(
        item, True, [ShownComment(n, "levels/x", "b", moment, None) for n in range(2)]
    )
    with_threads.printed = printed
    contents = [
        ContentsEntry(
            PrintedSection(f"s{items}", hostile, items, changed, f'?items=2&x="#section-{items}'),
            comments,
            shown,
        )
        for items, changed, comments, shown in (
            (1, 0, 0, []),
            (2, 1, 1, [PrintedRun(SafeString("<li>run</li>")), with_threads]),
            (1500, 1200, 2, [with_threads, PrintedRun(SafeString("<li>run</li>"))]),
            (0, 0, 0, []),
        )
    ]
    printed_now = Template("{% load long_lists %}{% version_contents contents %}").render(
        Context({"contents": contents})
    )

    printed_before = Template(CONTENTS_TEMPLATE).render(Context({"contents": contents}))
    assert printed_now.split() == printed_before.split()  # the same but for whitespace
    assert (
        "<script>" not in printed_now and "(1,500 items, 1,200 changed, 2 comments)" in printed_now
    )
