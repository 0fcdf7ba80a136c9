"""The ladder diagram: a pure DOT builder (no database), drawn by graphviz, cached by hash.

The drawings are read back from graphviz's SVG: each node and edge is a group carrying the id the
builder gave it, the class of its kind of edge, a <title> "tail->head" and its text.
"""

from __future__ import annotations

import copy
import hashlib
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

import pytest

from escalation.diagram import ladder_dot, render_ladder
from escalation.document import build_document
from escalation.large_framework import fill_large_framework
from escalation.models import DiagramRender, Framework
from escalation.pdf import LADDER_PART_WIDTH_PT

SVG = "{http://www.w3.org/2000/svg}"
GENERIC_TRIGGER = "A threshold breached by the trigger rule, or a failure type that maps here."
SMALLEST_READABLE_PT = 7.0


def level(key: str, name: str, **fields: Any) -> dict[str, Any]:
    return {
        "key": key,
        "name": name,
        "kind": "custom",
        "trigger": f"{name} trigger",
        "entry_criteria": f"{name} entry criteria",
        "exit_criteria": "",
        "rollback_rule": "",
        "approval_owner_name": f"{name} owner",
        "approval_owner_role": "",
        "approval_rule": "single",
        "approval_group": "",
        "cost_ceiling": "5000.00",
        "currency": "EUR",
        "estimated_cost_delta": "1500.00",
        "timeline_delta_days": 10,
        **fields,
    }


def bound(key: str, escalates_to: list[str], **fields: Any) -> dict[str, Any]:
    return {
        "key": key,
        "threshold": "claims-all",
        "metric_kind": "quality",
        "metric_name": "",
        "percentile": "",
        "direction": "at_least",
        "value": "0.9",
        "unit": "ratio",
        "escalates_to": escalates_to,
        **fields,
    }


def failure_mode(key: str, name: str, first: str | None, *then: str, **fields: Any) -> Any:
    return {
        "key": key,
        "name": name,
        "severity": "medium",
        "recommended_level": first,
        "then_levels": list(then),
        **fields,
    }


# A version 2 document, as the ladder step now writes it: every rung states the method's generic
# trigger; fine-tuning may be entered directly (the ladder's `direct_entry_*` keys).
LADDER = {
    "schema_version": 2,
    "name": "Acme framework",
    "ai_systems": [{"key": "claims", "name": "Claims triage"}],
    "thresholds": [
        {
            "key": "claims-all",
            "ai_system": "claims",
            "output_type": "",
            "measurement_window_hours": 24,
            "trigger_breaches": 3,
            "trigger_windows": 5,
        }
    ],
    "bounds": [
        bound("accuracy", ["rag", "prompt"], metric_name="field accuracy", value="0.985"),
        bound(
            "latency",
            ["tune"],
            metric_kind="latency",
            percentile="p99",
            direction="at_most",
            value="8",
            unit="s",
        ),
    ],
    "failure_modes": [
        failure_mode("made-up", "Hallucination", "rag", "shots", "tune", severity="critical"),
        failure_mode("overconfident", "Miscalibration", "tune"),
        failure_mode("tone", "Drifting tone", None),
    ],
    "levels": [
        level("prompt", "Prompt optimization", kind="prompt_optimization", rollback_rule="Undo"),
        level("rag", "Retrieval", kind="retrieval_augmentation", rollback_rule="Index off"),
        level("shots", "Few-shot enrichment", rollback_rule="Old examples back"),
        level(
            "tune",
            "Fine-tuning",
            kind="fine_tuning",
            approval_rule="all_of_group",
            approval_group="CTO, Chief risk officer",
            cost_ceiling="120000.00",
            direct_entry_when="a regulator finding on accuracy",
            direct_entry_approver="Chief risk officer",
        ),
    ],
}
for rung in LADDER["levels"]:
    rung["trigger"] = GENERIC_TRIGGER

# A version 1 document (fixed bounds on the threshold, one level per failure mode, no direct
# entry), read through the upgrade as every stored version is.
LADDER_V1 = {
    "schema_version": 1,
    "name": "Acme framework",
    "ai_systems": [{"key": "claims", "name": "Claims summariser"}],
    "thresholds": [
        {
            "key": "claims-summary",
            "ai_system": "claims",
            "output_type": "summary",
            "quality_metric": "groundedness",
            "quality_floor": "85.00",
            "error_rate_ceiling_pct": "2.50",
            "measurement_window_hours": 24,
            "trigger_breaches": 3,
            "trigger_windows": 5,
        }
    ],
    "failure_modes": [{"key": "made-up", "name": "Hallucination", "recommended_level": "rag"}],
    "levels": [
        {
            key: value
            for key, value in level("prompt", "Prompt optimization").items()
            if key not in {"cost_ceiling", "exit_criteria", "rollback_rule"}
        }
        | {"trigger_thresholds": ["claims-summary"]},
        level("rag", "Retrieval augmentation"),
        level("tune", "Fine-tuning", approval_owner_name="Dana <CTO> & board"),
    ],
}


@dataclass(frozen=True)
class Edge:
    id: str
    kinds: set[str]
    tail: str
    head: str
    label: str
    stroke: dict[str, str]


class Drawing:
    """A graphviz SVG read back: its nodes and edges by the ids and classes the builder set."""

    def __init__(self, svg: bytes) -> None:
        self.root = ET.fromstring(svg)
        self.groups = {g.get("id"): g for g in self.root.iter(f"{SVG}g")}

    def text(self, id: str) -> str:
        """A node's text, its lines joined by single spaces."""
        return " ".join(" ".join(t.text or "" for t in self.groups[id].iter(f"{SVG}text")).split())

    def middle(self, id: str) -> float:
        """The vertical middle of a node, from the corners of its boxes (y grows downwards)."""
        ys = [
            float(y)
            for polygon in self.groups[id].iter(f"{SVG}polygon")
            for y in re.findall(r",(-?[\d.]+)", polygon.get("points", ""))
        ]
        return (min(ys) + max(ys)) / 2

    def edges(self, kind: str = "") -> list[Edge]:
        edges = []
        for group in self.root.iter(f"{SVG}g"):
            classes = set((group.get("class") or "").split())
            if "edge" not in classes or (kind and kind not in classes):
                continue
            tail, head = (group.findtext(f"{SVG}title") or "").split("->")
            path = group.find(f"{SVG}path")
            edges.append(
                Edge(
                    group.get("id", ""),
                    classes - {"edge"},
                    tail,
                    head,
                    " ".join(" ".join(t.text or "" for t in group.iter(f"{SVG}text")).split()),
                    dict(path.attrib) if path is not None else {},
                )
            )
        return edges

    def steps(self, kind: str) -> set[tuple[str, str]]:
        return {(edge.tail, edge.head) for edge in self.edges(kind)}


@pytest.fixture
def drawing(db: Any) -> Drawing:
    return Drawing(render_ladder(LADDER))


# The rungs


def test_rungs_are_drawn_top_to_bottom_in_ladder_order(drawing):
    middles = [drawing.middle(f"level-{key}") for key in ("prompt", "rag", "shots", "tune")]
    assert middles == sorted(middles)


def test_the_chain_leads_from_detection_up_the_ladder_rung_by_rung(drawing):
    assert drawing.steps("chain") == {
        ("detected", "level-prompt"),
        ("level-prompt", "level-rag"),
        ("level-rag", "level-shots"),
        ("level-shots", "level-tune"),
    }


def test_a_rung_shows_its_name_kind_cost_ceiling_and_approval_rule(drawing):
    rung = drawing.text("level-tune")
    assert "4. Fine-tuning" in rung and "Cost ceiling EUR 120,000 one-off" in rung
    assert "All 2 of: CTO, Chief risk officer. Owner: Fine-tuning owner" in rung
    assert "Retrieval augmentation" in drawing.text("level-rag")  # its kind, under its name


def test_chain_edges_no_longer_repeat_the_generic_trigger(drawing):
    assert [edge.label for edge in drawing.edges("chain")] == ["", "", "", ""]
    svg_text = " ".join(" ".join(t.text or "" for t in drawing.root.iter(f"{SVG}text")).split())
    assert svg_text.count("trigger rule, or a failure type") == 1  # said once, at the start


def test_a_rung_with_its_own_trigger_shows_it(db):
    document = copy.deepcopy(LADDER)
    document["levels"][2]["trigger"] = "Two prompt iterations failed"
    assert "Two prompt iterations failed" in Drawing(render_ladder(document)).text("level-shots")


# What enters from the side


def test_a_failure_mode_enters_from_the_side_at_the_first_rung_of_its_path(drawing):
    assert "Hallucination (critical; then 3, 4)" in drawing.text("entries-rag")
    assert drawing.middle("entries-rag") == pytest.approx(drawing.middle("level-rag"), abs=1)
    assert ("entries-rag", "level-rag") in drawing.steps("entry")


def test_a_failure_mode_routed_to_a_higher_rung_does_not_pass_the_rungs_below(drawing):
    assert "Miscalibration" in drawing.text("entries-tune")
    assert "entries-shots" not in drawing.groups
    assert all("Miscalibration" not in edge.label for edge in drawing.edges())


def test_a_failure_paths_later_steps_are_edges_of_their_own(drawing):
    steps = {(edge.tail, edge.head): edge.label for edge in drawing.edges("path")}
    assert steps == {
        ("level-rag", "level-shots"): "Hallucination",
        ("level-shots", "level-tune"): "Hallucination",
    }


def test_a_bound_enters_at_its_first_escalation_level_with_its_rule(drawing):
    side = drawing.text("entries-prompt")
    assert "Breached in 3 of the last 5 24-hour windows:" in side
    assert "Claims triage · all outputs: ≥ 0.985 field accuracy (then 2)" in side
    assert "p99 ≤ 8 s" in drawing.text("entries-tune")
    assert "field accuracy" not in drawing.text("entries-rag")


def test_what_reaches_no_rung_is_named_at_the_start(drawing):
    start = drawing.text("node-detected")
    assert "Not routed to a rung yet" in start and "Drifting tone (medium)" in start


# Skips, rollbacks and the legend


def test_a_permitted_skip_runs_from_the_direct_entry_into_its_rung_labelled_with_its_approver(
    drawing,
):
    # The skips share one rail down from the direct entry; each branches off into its rung, the
    # branch drawn from the rung with its arrow there.
    assert drawing.steps("skip-rail") == {("direct-entry", "skip-junction-tune")}
    (branch,) = drawing.edges("skip")
    assert (branch.tail, branch.head) == ("level-tune", "skip-junction-tune")
    assert branch.label == "Chief risk officer"


def test_skips_are_drawn_bolder_than_the_chain(drawing):
    (branch,) = drawing.edges("skip")
    chain_width = float(drawing.edges("chain")[0].stroke["stroke-width"])
    assert float(branch.stroke["stroke-width"]) > chain_width


def test_several_skips_share_one_rail_down_the_ladder(db):
    document = copy.deepcopy(LADDER)
    document["levels"][2] |= {
        "direct_entry_when": "a new product line",
        "direct_entry_approver": "",
    }
    drawing = Drawing(render_ladder(document))
    assert drawing.steps("skip-rail") == {
        ("direct-entry", "skip-junction-shots"),
        ("skip-junction-shots", "skip-junction-tune"),
    }
    assert "approver not named" in {edge.label for edge in drawing.edges("skip")}


def test_the_skipped_to_rung_says_when_it_may_be_entered_directly(drawing):
    rung = drawing.text("level-tune")
    assert "Direct entry when a regulator finding on accuracy; approves the skip: Chief" in rung


def test_a_document_without_direct_entry_keys_draws_no_skip(db):
    drawing = Drawing(render_ladder(LADDER_V1))
    assert drawing.edges("skip") == [] and "direct-entry" not in drawing.groups


def test_rollbacks_are_dashed_edges_back_to_the_rung_below(drawing):
    rollbacks = drawing.edges("rollback")
    # Drawn along the chain with the arrow at its tail, pointing back down the ladder.
    assert {(edge.tail, edge.head) for edge in rollbacks} == {
        ("level-prompt", "level-rag"),
        ("level-rag", "level-shots"),
    }
    assert all("stroke-dasharray" in edge.stroke for edge in rollbacks)
    assert all("stroke-dasharray" not in edge.stroke for edge in drawing.edges("chain"))


def test_the_legend_says_what_each_edge_drawn_means(drawing):
    legend = drawing.text("legend")
    for meaning in (
        "Next rung",
        "Failure modes and bounds entering",
        "later step",
        "Permitted skip",
        "Rollback to the rung below",
    ):
        assert meaning in legend


def test_the_legend_names_no_edge_that_is_not_drawn(db):
    legend = Drawing(render_ladder(LADDER_V1)).text("legend")
    assert "Permitted skip" not in legend and "later step" not in legend


# Old documents and hostile text


def test_a_version_1_document_still_draws_its_rungs_and_entries(db):
    drawing = Drawing(render_ladder(LADDER_V1))
    assert "Hallucination" in drawing.text("entries-rag")
    side = drawing.text("entries-prompt")
    assert "Claims summariser · summary: ≥ 85/100 groundedness; ≤ 2.5% errors" in side


def test_dot_escapes_typed_text_in_labels():
    dot = " ".join(ladder_dot(LADDER_V1).replace('<BR ALIGN="LEFT"/>', " ").split())
    assert "Dana &lt;CTO&gt; &amp; board" in dot


def test_hostile_names_on_every_new_edge_still_draw(db):
    hostile = 'Q "quoted" \\ <b>\x01\nnext line\\'
    document = copy.deepcopy(LADDER)
    document["failure_modes"][0]["name"] = hostile
    document["levels"][3]["direct_entry_approver"] = hostile
    drawing = Drawing(render_ladder(document))
    expected = 'Q "quoted" \\ <b>[U+0001] next line\\'
    assert drawing.edges("path")[0].label == expected
    assert " ".join(drawing.edges("skip")[0].label.split()) == expected


def test_dot_of_an_empty_ladder_says_so():
    assert "No escalation levels defined yet" in ladder_dot({"name": "Empty", "levels": []})


# Size


def smallest_printed_size(svg: bytes) -> float:
    """The smallest text of the drawing once the pack shrinks it to a page's width (pt)."""
    root = ET.fromstring(svg)
    width = float(root.get("width", "").removesuffix("pt"))
    transform = root.find(f"{SVG}g").get("transform", "")  # type: ignore[union-attr]
    scale = float(re.search(r"scale\(([\d.]+)", transform).group(1))  # type: ignore[union-attr]
    shrink = min(1.0, LADDER_PART_WIDTH_PT / width)
    sizes = [float(text.get("font-size", 14)) for text in root.iter(f"{SVG}text")]
    return min(sizes) * scale * shrink


@pytest.fixture
def large_document(db: Any) -> dict[str, Any]:
    framework = Framework.objects.create(name="Large")
    fill_large_framework(framework, levels=12, failure_modes=25)
    return build_document(framework)


def test_twelve_rungs_and_twenty_five_failure_modes_print_at_a_readable_size(large_document):
    svg = render_ladder(large_document)
    assert smallest_printed_size(svg) >= SMALLEST_READABLE_PT


def test_skips_and_multi_step_paths_at_that_size_still_print_readably(large_document):
    keys = [rung["key"] for rung in large_document["levels"]]
    for rung in large_document["levels"]:
        rung["direct_entry_when"] = rung["direct_entry_approver"] = ""
    for rung in large_document["levels"][1::2]:
        rung["direct_entry_when"] = "the vendor deprecates the model"
        rung["direct_entry_approver"] = "AI steering committee"
    for number, mode in enumerate(large_document["failure_modes"]):
        first = keys.index(mode["recommended_level"])
        mode["then_levels"] = keys[first + 1 : first + 1 + number % 3]  # up to two more rungs
    drawing = render_ladder(large_document)
    assert len(Drawing(drawing).edges("skip")) == 6 and Drawing(drawing).edges("path")
    assert smallest_printed_size(drawing) >= SMALLEST_READABLE_PT


# Drawing and caching


@pytest.mark.django_db
def test_png_is_drawn():
    assert render_ladder(LADDER, "png").startswith(b"\x89PNG")


@pytest.mark.django_db
def test_second_render_of_the_same_ladder_comes_from_the_cache():
    render_ladder(LADDER)
    # Mark the stored drawing: if the second render ran `dot` again it could not return this.
    DiagramRender.objects.update(content=b"<svg>cached</svg>")
    assert render_ladder(copy.deepcopy(LADDER)) == b"<svg>cached</svg>"
    assert DiagramRender.objects.count() == 1


@pytest.mark.django_db
def test_changed_ladder_is_drawn_again():
    render_ladder(LADDER)
    changed = {**LADDER, "levels": LADDER["levels"][:2]}
    render_ladder(changed)
    assert DiagramRender.objects.count() == 2


@pytest.mark.django_db
def test_a_drawing_kept_by_an_earlier_builder_is_not_served():
    # Before the drawing had a version, a drawing was kept under the hash of format and DOT.
    earlier_key = hashlib.sha256(f"svg\n{ladder_dot(LADDER)}".encode()).hexdigest()
    DiagramRender.objects.create(sha256=earlier_key, format="svg", content=b"<svg>old</svg>")
    assert render_ladder(LADDER) != b"<svg>old</svg>"
