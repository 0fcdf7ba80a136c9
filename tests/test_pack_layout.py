"""The PDF pack as a client holds it: every word on the page, readable, and the whole framework.

The packs are made the way `manage.py export_pack` makes them, for the demo's signed-off v1, for
the large bench engagement's last signed-off version and for a version signed off by an approver
with a 120-character email address, then read back word by word with
`pdftotext -bbox` (poppler), which reports each word's box on its page in points.
"""

from __future__ import annotations

import io
import re
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import weasyprint
from django.core.management import call_command
from django.db import connection, transaction
from weasyprint.formatting_structure import boxes

from escalation import artifacts
from escalation.diagram import render_ladder
from escalation.document import build_document
from escalation.large_framework import fill_large_framework
from escalation.models import Framework
from escalation.pdf import (
    CUT_MARGIN_PT,
    LADDER_PART_HEIGHT_PT,
    LADDER_PART_WIDTH_PT,
    PackContext,
    StaticOnlyFetcher,
    ladder_parts,
    pack_html,
    static_roots,
)
from tests.factories import make_engagement, make_member, make_user, make_version, sign_off
from tests.framework_content import make_framework_content
from workshops.bench import BENCH_SLUG, TODAYS_LARGEST, seed_large_engagement
from workshops.demo import load_demo
from workshops.models import Engagement, Role
from workshops.packs import artifact_source

MM = 72 / 25.4
# The pack's @page margins (static/css/pack.css): top, right, bottom, left.
MARGIN_TOP, MARGIN_RIGHT, MARGIN_BOTTOM, MARGIN_LEFT = 22 * MM, 16 * MM, 20 * MM, 16 * MM
TOLERANCE = 1.0
# poppler's word box spans the font's ascent to its descent: 1.164 em for DejaVu Sans, the pack's
# only typeface. A word's box height over this is the size it is printed at, scaling included.
DEJAVU_BOX_EM = 1.164
SMALLEST_READABLE_PT = 7.0
XHTML = "{http://www.w3.org/1999/xhtml}"
SVG = "{http://www.w3.org/2000/svg}"


@dataclass(frozen=True)
class Word:
    page: int
    text: str
    x_min: float
    y_min: float
    x_max: float
    y_max: float
    page_width: float
    page_height: float

    @property
    def size_pt(self) -> float:
        return (self.y_max - self.y_min) / DEJAVU_BOX_EM

    def on_page(self) -> bool:
        """Inside the page's content box; running headers and page numbers sit in the margin
        bands above and below it, but no further out than the content box's sides."""
        inside_sides = (
            self.x_min >= MARGIN_LEFT - TOLERANCE
            and self.x_max <= self.page_width - MARGIN_RIGHT + TOLERANCE
        )
        inside_height = self.y_min >= -TOLERANCE and self.y_max <= self.page_height + TOLERANCE
        return inside_sides and inside_height

    def in_body(self) -> bool:
        return (
            self.y_min >= MARGIN_TOP - TOLERANCE
            and self.y_max <= self.page_height - MARGIN_BOTTOM + TOLERANCE
        )


@dataclass(frozen=True)
class ExportedPack:
    document: dict[str, Any]
    words: list[Word]
    text: str

    @property
    def pages(self) -> int:
        return max(word.page for word in self.words)

    def words_on(self, page: int) -> list[Word]:
        return [word for word in self.words if word.page == page]


@pytest.fixture
def large_ladder_svg(db: Any) -> bytes:
    framework = Framework.objects.create(name="Large")
    fill_large_framework(framework)
    return render_ladder(build_document(framework))


def part_height(part: str) -> float:
    return float(ET.fromstring(part).get("height", "").removesuffix("pt"))


def printed_height(part: str) -> float:
    """A part's height on the page: a part wider than the page is shrunk to its width."""
    width = float(ET.fromstring(part).get("width", "").removesuffix("pt"))
    return part_height(part) * min(1.0, LADDER_PART_WIDTH_PT / width)


def test_a_tall_ladder_is_cut_into_parts_no_taller_than_a_page(large_ladder_svg):
    parts = ladder_parts(large_ladder_svg, "Ladder")
    assert len(parts) > 1 and max(map(printed_height, parts)) <= LADDER_PART_HEIGHT_PT + 0.01


def test_each_line_of_the_ladder_is_in_exactly_one_part(large_ladder_svg):
    # A line cut by a part's edge would be kept, half hidden, in the parts on both sides of it.
    parts = ladder_parts(large_ladder_svg, "Ladder")
    assert sum(part.count("<text") for part in parts) == large_ladder_svg.decode().count("<text")


def drawn_groups(part: str) -> list[tuple[str, float, float]]:
    """Each box and edge of a ladder part: its title and the top and bottom of its shapes, in
    the part's viewBox units."""
    root = ET.fromstring(part)
    graph = root.find(f"{SVG}g")
    assert graph is not None
    shift = float(re.findall(r"translate\([-\d.]+ ([-\d.]+)\)", graph.get("transform", ""))[0])
    groups = []
    for group in graph.findall(f"{SVG}g"):
        ys = [
            float(y) + shift
            for shape in group.iter()
            for _x, y in re.findall(
                r"(-?[\d.]+),(-?[\d.]+)", shape.get("points", shape.get("d", ""))
            )
        ]
        if ys:
            groups.append((group.findtext(f"{SVG}title", ""), min(ys), max(ys)))
    return groups


def test_a_ladder_part_carries_only_the_boxes_and_edges_seen_through_it(large_ladder_svg):
    # The rest would be parsed, styled and drawn in every part, unseen (27 times at ten times).
    parts = ladder_parts(large_ladder_svg, "Ladder")
    outside = []
    for part in parts:
        _x, top, _width, height = map(float, ET.fromstring(part).get("viewBox", "").split())
        outside += [
            title
            for title, first, last in drawn_groups(part)
            if last < top - CUT_MARGIN_PT or first > top + height + CUT_MARGIN_PT
        ]
    assert outside == []


def test_every_box_and_edge_of_the_ladder_is_in_some_part(large_ladder_svg):
    whole = {title for title, _top, _bottom in drawn_groups(large_ladder_svg.decode())}
    parts = ladder_parts(large_ladder_svg, "Ladder")
    assert whole == {title for part in parts for title, _top, _bottom in drawn_groups(part)}


def flat(text: str) -> str:
    """Text as words between single spaces; a line wrapped after a hyphen joined again."""
    return re.sub(r"-\s+", "-", " ".join(text.split()))


def read_words(pdf: Path) -> list[Word]:
    bbox = subprocess.run(
        ["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    words = []
    for number, page in enumerate(ET.fromstring(bbox).iter(f"{XHTML}page"), start=1):
        width, height = float(page.get("width", 0)), float(page.get("height", 0))
        for word in page.iter(f"{XHTML}word"):
            box = [float(word.get(edge, 0)) for edge in ("xMin", "yMin", "xMax", "yMax")]
            words.append(Word(number, word.text or "", *box, width, height))
    return words


def export(slug: str, number: int, path: Path) -> ExportedPack:
    call_command(
        "export_pack", slug, "--version", str(number), "-o", str(path), stdout=io.StringIO()
    )
    # -raw: in the order it is drawn, so the lines of a table cell stay together.
    text = subprocess.run(
        ["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    document = artifact_source(Engagement.objects.get(slug=slug), number).document
    return ExportedPack(document, read_words(path), flat(text))


def exported_once(django_db_blocker: Any, seed: Any, slug: str, number: int, path: Path) -> Any:
    # Seeding and rendering take seconds: once per module, in a transaction rolled back after.
    with django_db_blocker.unblock():
        with transaction.atomic():
            seed()
            exported = export(slug, number, path)
            transaction.set_rollback(True)
        # Opened outside any test's connection handling: close it, or it blocks dropping the
        # test database.
        connection.close()
    return exported


@pytest.fixture(scope="module")
def demo_pack(django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: Any) -> Any:
    path = tmp_path_factory.mktemp("packs") / "demo-v1.pdf"
    return exported_once(django_db_blocker, load_demo, "demo", 1, path)


@pytest.fixture(scope="module")
def bench_pack(django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: Any) -> Any:
    path = tmp_path_factory.mktemp("packs") / "bench.pdf"
    # The last version is still in review; the one before is signed off.
    seed = partial(seed_large_engagement, TODAYS_LARGEST)
    return exported_once(django_db_blocker, seed, BENCH_SLUG, TODAYS_LARGEST.versions - 1, path)


# 120 characters, none of its parts between "@", dots and hyphens longer than a line of its cell.
LONG_EMAIL = (
    "alexandra.konstantina.papadopoulou.vanderbilt.approvals"
    "@board-office.group-risk.emea.acme-insurance.holdings.example.com"
)
LONG_NAME = ("Alexandra Konstantina", "Papadopoulou-Vanderbilt-Oyelaran-Featherstonehaugh")


def seed_long_approver() -> None:
    """A small engagement whose v1 is signed off by an approver with a 120-character email
    address and a long double-barrelled name."""
    engagement = make_engagement(slug="long-approver", client_organisation="Acme Insurance")
    make_framework_content(engagement.framework)
    first, last = LONG_NAME
    approver = make_user("alexandra", email=LONG_EMAIL, first_name=first, last_name=last)
    make_member(engagement, Role.APPROVER, approver)
    sign_off(engagement, make_version(engagement.framework), [approver])


@pytest.fixture(scope="module")
def long_approver_pack(django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: Any) -> Any:
    path = tmp_path_factory.mktemp("packs") / "long-approver.pdf"
    return exported_once(django_db_blocker, seed_long_approver, "long-approver", 1, path)


@pytest.fixture(params=["demo_pack", "bench_pack", "long_approver_pack"])
def pack(request: Any) -> ExportedPack:
    return request.getfixturevalue(request.param)


def test_every_word_of_the_pack_lies_on_its_page(pack):
    assert [word for word in pack.words if not word.on_page()] == []


def test_margins_hold_only_the_running_header_and_page_number(pack):
    in_margins = {word.text for word in pack.words if not word.in_body()}
    expected = {word.text for word in pack.words_on(2) if not word.in_body()}
    assert "Page" in expected and in_margins - expected <= {str(n) for n in range(pack.pages + 1)}


def test_every_word_of_the_pack_is_printed_at_a_readable_size(pack):
    assert [word for word in pack.words if word.size_pt < SMALLEST_READABLE_PT - 0.1] == []


def test_the_ladder_diagram_is_in_the_pack_at_a_readable_size(pack):
    # The diagram's first box reads "Threshold breach or failure detected"; nothing else does.
    diagram_words = [
        word
        for previous, word in zip(pack.words, pack.words[1:], strict=False)
        if (previous.text, word.text) == ("failure", "detected") and previous.y_min == word.y_min
    ]
    assert diagram_words and all(word.size_pt >= SMALLEST_READABLE_PT for word in diagram_words)


def missing_from(pack: ExportedPack, texts: list[str]) -> list[str]:
    return [text for text in texts if flat(text) not in pack.text]


def test_pack_names_every_ai_system_in_scope_with_its_owner(demo_pack):
    systems = demo_pack.document["ai_systems"]
    assert missing_from(demo_pack, [s["name"] for s in systems]) == []
    assert missing_from(demo_pack, [s["business_owner"] for s in systems]) == []


def test_pack_prints_every_levels_exit_criteria_and_rollback_rule(demo_pack):
    levels = demo_pack.document["levels"]
    assert missing_from(demo_pack, [level["exit_criteria"] for level in levels]) == []
    assert missing_from(demo_pack, [level["rollback_rule"] for level in levels]) == []


def test_pack_prints_every_levels_cost_ceiling_and_approval_rule(demo_pack):
    rows = artifacts.ladder(demo_pack.document)
    assert missing_from(demo_pack, [row["cost_ceiling"] for row in rows]) == []
    groups = [level["approval_group"] for level in demo_pack.document["levels"]]
    assert missing_from(demo_pack, [group for group in groups if group]) == []


def test_pack_prints_every_levels_approval_owner_rule_cost_and_timeline_deltas(demo_pack):
    rows = artifacts.ladder(demo_pack.document)
    fields = ["approval_owner", "approval", "estimated_cost", "cost_ceiling", "timeline"]
    printed = [row[field] for row in rows for field in fields]
    assert all(printed) and missing_from(demo_pack, printed) == []


def test_pack_prints_the_scope_creep_rule(demo_pack):
    rule = demo_pack.document["governance"]["scope_creep_rule"]
    assert rule and missing_from(demo_pack, [rule]) == []


def test_pack_prints_how_each_failure_type_shows_and_an_example(demo_pack):
    modes = demo_pack.document["failure_modes"]
    assert missing_from(demo_pack, [mode["detection_signal"] for mode in modes]) == []
    assert missing_from(demo_pack, [mode["example"] for mode in modes]) == []


def printed_lines(pack: ExportedPack, text: str) -> list[str]:
    """The words (pieces of line) `text` is printed as, in order; [] when it is not printed."""
    words = [word.text.replace("\u200b", "") for word in pack.words]  # <wbr> prints as U+200B
    for start in range(len(words)):
        printed, lines = "", []
        for word in words[start:]:
            if not word or not text.startswith(printed + word):
                break
            printed, lines = printed + word, [*lines, word]
            if printed == text:
                return lines
    return []


def test_a_long_email_address_wraps_only_after_its_at_dots_and_hyphens(long_approver_pack):
    lines = printed_lines(long_approver_pack, LONG_EMAIL)
    assert len(lines) > 1
    assert [line for line in lines[:-1] if line[-1] not in "@.-"] == []


def test_a_long_approver_name_is_printed_whole(long_approver_pack):
    assert missing_from(long_approver_pack, [" ".join(LONG_NAME)]) == []


def table_parts(html: str) -> list[list[tuple[bool, int]]]:
    """Each table as WeasyPrint lays it out with the pack's stylesheet: per page it reaches,
    whether that part carries the table's header, and how many of its rows it holds."""
    document = weasyprint.HTML(
        string=html, base_url=static_roots()[0].as_uri() + "/", url_fetcher=StaticOnlyFetcher()
    ).render()
    parts: dict[int, list[tuple[bool, int]]] = {}
    for page in document.pages:
        for box in page._page_box.descendants():
            if isinstance(box, boxes.TableBox):
                groups = [g for g in box.children if isinstance(g, boxes.TableRowGroupBox)]
                parts.setdefault(id(box.element), []).append(
                    (
                        any(g.is_header for g in groups),
                        sum(len(g.children) for g in groups if not g.is_header),
                    )
                )
    return list(parts.values())


@pytest.fixture(scope="module")
def demo_split_tables(django_db_blocker: Any, demo_pack: ExportedPack) -> list[Any]:
    context = PackContext("Client", "Engagement", "v1", "Signed off", True, "0" * 64, "now")
    with django_db_blocker.unblock():  # the ladder drawing is kept in the database's cache
        tables = table_parts(pack_html(demo_pack.document, context))
        connection.close()
    split = [table for table in tables if len(table) > 1]
    assert split, "the demo's pack has tables running over pages"
    return split


def test_a_table_running_over_pages_repeats_its_header_on_each(demo_split_tables):
    assert [t for t in demo_split_tables if not all(header for header, _ in t)] == []


def test_a_table_break_never_leaves_its_last_row_alone_on_a_page():
    # Tables of every length across a page break: left to itself, some length would carry
    # exactly one row over to the next page.
    head = '<link rel="stylesheet" href="css/pack.css"><table class="table">'
    head += "<thead><tr><th>Item</th></tr></thead><tbody>"
    tables = [
        table_parts(head + "<tr><td>Row</td></tr>" * rows + "</tbody></table>")[0]
        for rows in range(30, 50)
    ]
    split = [table for table in tables if len(table) > 1]
    assert split and [table for table in split if table[-1][1] < 2] == []
