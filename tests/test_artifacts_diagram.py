"""The ladder diagram: a pure DOT builder (no database), drawn by graphviz, cached by hash."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from escalation.diagram import ladder_dot, render_ladder
from escalation.models import DiagramRender


def level(key: str, name: str, **fields: Any) -> dict[str, Any]:
    return {
        "key": key,
        "name": name,
        "kind": "custom",
        "trigger": f"{name} trigger",
        "trigger_thresholds": [],
        "entry_criteria": f"{name} entry criteria",
        "approval_owner_name": f"{name} owner",
        "approval_owner_role": "",
        "approval_rule": "single",
        "approval_group": "",
        "currency": "EUR",
        "estimated_cost_delta": "1500.00",
        "timeline_delta_days": 10,
        **fields,
    }


# A version 1 document (fixed bounds on the threshold), read through the upgrade as every stored
# version is.
LADDER = {
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
        level("prompt", "Prompt optimization", trigger_thresholds=["claims-summary"]),
        level("rag", "Retrieval augmentation"),
        level("tune", "Fine-tuning", approval_owner_name="Dana <CTO> & board"),
    ],
}


def test_dot_has_a_node_per_level_in_ladder_order():
    dot = ladder_dot(LADDER)
    positions = [dot.index(f'"level-{key}" [label=') for key in ("prompt", "rag", "tune")]
    assert positions == sorted(positions)


def test_dot_node_shows_entry_criteria_owner_cost_and_timeline():
    dot = ladder_dot(LADDER)
    for text in (
        "Prompt optimization entry criteria",
        "Prompt optimization owner",
        "EUR 1,500 one-off",
        "10 working days",
    ):
        assert text in dot


def test_dot_edges_lead_up_the_ladder_labelled_with_their_triggers():
    dot = ladder_dot(LADDER)
    assert 'detected -> "level-prompt"' in dot
    assert '"level-prompt" -> "level-rag"' in dot
    assert '"level-rag" -> "level-tune"' in dot


def test_dot_edge_names_the_threshold_and_failure_modes_that_lead_to_a_level():
    dot = ladder_dot(LADDER).replace('<BR ALIGN="LEFT"/>', " ")
    assert "Claims summariser · summary: ≥ 85/100 groundedness; ≤ 2.5% errors" in dot
    assert "Failure modes: Hallucination" in dot


def test_dot_escapes_typed_text_in_labels():
    assert "Dana &lt;CTO&gt; &amp; board" in ladder_dot(LADDER)


def test_dot_of_an_empty_ladder_says_so():
    assert "No escalation levels defined yet" in ladder_dot({"name": "Empty", "levels": []})


@pytest.mark.django_db
def test_svg_contains_every_level_and_edge():
    svg = render_ladder(LADDER).decode().replace("&#45;", "-")
    for key in ("prompt", "rag", "tune"):
        assert f'id="level-{key}"' in svg
        assert f'id="edge-to-{key}"' in svg
    assert svg.count('class="edge"') == 3
    assert all(
        f"{n}. {name}" in svg for n, name in [(1, "Prompt optimization"), (3, "Fine-tuning")]
    )


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
