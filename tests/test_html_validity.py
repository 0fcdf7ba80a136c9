"""The main pages are valid HTML where the W3C checker used to object: htmx attributes carry the
`data-` prefix, every `<time datetime>` is a valid date or time string, headings never skip a level,
and `<small>` holds no list or block."""

import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from escalation.steps import STEPS
from workshops.demo import DEMO_PASSWORD, load_demo

DATE = r"\d{4}-\d{2}-\d{2}"
TIME = r"\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?"  # at most three fractional digits
ZONE = r"(?:Z|[+-]\d{2}:?\d{2})"
VALID_DATETIME = re.compile(rf"{DATE}|{TIME}|{DATE}[T ]{TIME}{ZONE}?")
BLOCKS = {"div", "p", "ul", "ol", "table", "section"}  # not phrasing content, so not inside <small>


class PageFacts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.bare_htmx: list[str] = []
        self.datetimes: list[str] = []
        self.headings: list[int] = []
        self.blocks_in_small: list[str] = []
        self._small_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.bare_htmx += [f"<{tag} {name}>" for name, _ in attrs if name.startswith("hx-")]
        if tag == "time":
            self.datetimes += [value or "" for name, value in attrs if name == "datetime"]
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        if tag in BLOCKS and self._small_depth:
            self.blocks_in_small.append(tag)
        self._small_depth += tag == "small"

    def handle_endtag(self, tag: str) -> None:
        self._small_depth -= tag == "small" and self._small_depth > 0


def skipped_levels(headings: list[int]) -> list[tuple[int, int]]:
    """Pairs (from, to) where a heading goes more than one level deeper than the one before it."""
    return [(a, b) for a, b in zip([0, *headings], headings, strict=False) if b > a + 1]


def main_pages() -> list[str]:
    return [
        reverse("dashboard", args=["demo"]),
        reverse("next_actions", args=["demo"]),
        reverse("day", args=["demo", 4]),
        *[reverse("step", args=["demo", step.key]) for step in STEPS],
        reverse("versions", args=["demo"]),
        reverse("version_detail", args=["demo", 2]),
        reverse("version_compare", args=["demo"]) + "?a=1&b=2",
        reverse("artifacts", args=["demo"]),
        reverse("people", args=["demo"]),
        reverse("audit", args=["demo"]),
        reverse("live", args=["demo"]),
        reverse("api_tokens", args=["demo"]),
        reverse("password_change"),
    ]


@pytest.fixture
def demo_client(client, db):
    load_demo()
    client.login(username="facilitator", password=DEMO_PASSWORD)
    return client


def read(client, path: str) -> PageFacts:
    response = client.get(path)
    assert response.status_code == 200, path
    facts = PageFacts()
    facts.feed(response.content.decode())
    return facts


def test_main_pages_write_htmx_attributes_with_the_data_prefix(demo_client):
    bare = {path: read(demo_client, path).bare_htmx for path in main_pages()}
    assert {path: found for path, found in bare.items() if found} == {}


def test_main_pages_write_valid_time_datetime_values(demo_client):
    invalid = {
        path: [
            value
            for value in read(demo_client, path).datetimes
            if not VALID_DATETIME.fullmatch(value)
        ]
        for path in main_pages()
    }
    assert {path: values for path, values in invalid.items() if values} == {}


def test_main_pages_never_skip_a_heading_level(demo_client):
    skips = {path: skipped_levels(read(demo_client, path).headings) for path in main_pages()}
    assert {path: found for path, found in skips.items() if found} == {}


def test_main_pages_put_only_phrasing_content_inside_small(demo_client):
    blocks = {path: read(demo_client, path).blocks_in_small for path in main_pages()}
    assert {path: found for path, found in blocks.items() if found} == {}


def test_the_dashboard_shows_activity_times_with_a_datetime_to_the_second(demo_client):
    datetimes = read(demo_client, reverse("dashboard", args=["demo"])).datetimes
    assert datetimes and all(
        re.fullmatch(rf"{DATE}T\d{{2}}:\d{{2}}:\d{{2}}\+00:00", v) for v in datetimes
    )


def test_the_heading_rule_notices_a_skipped_level():
    assert skipped_levels([1, 2, 3, 2, 3]) == []
    assert skipped_levels([1, 3]) == [(1, 3)]
