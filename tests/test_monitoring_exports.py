"""The monitoring files of a signed-off version, read as their tools read them: promtool checks
and runs the rules and their generated unit tests; the OpenSLO and LiteLLM files parse as YAML
and say what the framework says. Pure functions of a document: no database here but the demo's."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from escalation.exports import Stamp, monitoring_files
from escalation.exports.monitored import monitored_bounds
from escalation.exports.openslo import object_name, target
from escalation.exports.prometheus import template_literal
from escalation.text import one_line
from workshops.demo import load_demo
from workshops.models import Engagement
from workshops.packs import artifact_source, monitoring_stamp

STAMP = Stamp(engagement="Acme Insurance: Escalation framework (acme)", version=3, sha256="ab" * 32)
PROMTOOL = shutil.which("promtool")
# Framework text as people may type it, or as a version frozen before the text rule kept it:
# YAML and PromQL syntax, Go template actions, quotes, backslashes, controls, line separators.
HOSTILE = "{{ .Value }} \"x\" \\ 'y' #z: - *a &b !!python/object {{- $labels }}\u2028yes\x07"
NAME = 'Käse-Bot: {{ $value }} "quoted" \\n #not a comment\u2029'


def _level(key: str, kind: str, **fields: Any) -> dict[str, Any]:
    return {
        "key": key,
        "name": f"{key} {HOSTILE}",
        "kind": kind,
        "approval_owner_name": f"Owner {HOSTILE}",
        "approval_owner_role": "CTO",
        "approval_rule": "single",
        "approval_group": "",
        "cost_ceiling": None,
        "currency": "EUR",
        **fields,
    }


def _bound(key: str, **fields: Any) -> dict[str, Any]:
    return {
        "key": key,
        "threshold": "bot-all",
        "metric_kind": "quality",
        "metric_name": HOSTILE,
        "percentile": "",
        "direction": "at_least",
        "value": "0.985000",
        "unit": "ratio",
        "counted_thing": "",
        "scale_max": None,
        "window_hours": None,
        "trigger_breaches": None,
        "trigger_windows": None,
        "immediate_breach_value": None,
        "minimum_sample_size": None,
        "escalates_to": ["Fine_Tuning"],
        **fields,
    }


def hostile_document(**review_cycle: Any) -> dict[str, Any]:
    """A framework whose every text is hostile, with a floor and a ceiling, an immediate breach,
    a minimum sample size, k = n = 1 on a one-hour window, a zero floor and a hybrid level."""
    return {
        "schema_version": 2,
        "name": NAME,
        "working_days": None,
        "ai_systems": [
            {"key": "Bot_1", "name": NAME, "model_name": HOSTILE, "output_types": [HOSTILE]}
        ],
        "thresholds": [
            {
                "key": "bot-all",
                "ai_system": "Bot_1",
                "output_type": HOSTILE,
                "measurement_window_hours": 24,
                "trigger_breaches": 2,
                "trigger_windows": 3,
            }
        ],
        "bounds": [
            _bound(
                "Floor_With_A_Very_Long_Key_That_Is_Not_A_Dns_Label_At_All_Really_Not",
                immediate_breach_value="0.950000",
                minimum_sample_size=200,
            ),
            _bound(
                "ceiling",
                metric_kind="latency",
                percentile="p99",
                direction="at_most",
                value="800.000000",
                unit="ms",
                window_hours=1,
                trigger_breaches=1,
                trigger_windows=1,
                immediate_breach_value="2000.000000",
                escalates_to=[],
            ),
            # A key no form accepts (a version frozen from an older import may hold one).
            _bound('zero "floor" \\ é\t', value="0.000000", minimum_sample_size=0),
        ],
        "failure_modes": [],
        "levels": [
            _level("Fine_Tuning", "fine_tuning", cost_ceiling="120000.00"),
            _level("hybrid", "hybrid_routing", cost_ceiling="60000.00"),
        ],
        "governance": {"scope_creep_rule": HOSTILE},
        "review_cycle": {"frequency": "quarterly", "drift_triggers": [], **review_cycle},
    }


def write(files: dict[str, str], directory: Path) -> Path:
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8")
    return directory


def promtool(directory: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL, "promtool is missing: `make system-packages` installs Debian's prometheus"
    return subprocess.run(
        [PROMTOOL, *arguments], cwd=directory, capture_output=True, text=True, timeout=120
    )


def rules_pass_promtool(directory: Path) -> bool:
    checked = promtool(directory, "check", "rules", "prometheus-rules.yml")
    tested = promtool(directory, "test", "rules", "prometheus-rules.test.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert tested.returncode == 0, tested.stdout + tested.stderr
    return True


# Prometheus


def test_demo_signed_off_version_passes_promtool_check_and_test(db, tmp_path):
    load_demo()
    source = artifact_source(Engagement.objects.get(slug="demo"), 1)
    files = monitoring_files(source.document, monitoring_stamp(source))
    assert rules_pass_promtool(write(files, tmp_path))


def test_hostile_framework_passes_promtool_check_and_test(tmp_path):
    assert rules_pass_promtool(write(monitoring_files(hostile_document(), STAMP), tmp_path))


# Each mutation breaks one part of the rules the generated tests must hold to: the count k, the
# range of n windows, the bound's own value meeting it (floor and ceiling), the immediate value.
MUTATIONS = {
    "k + 1": (r"\) >= 2$", ") >= 3"),
    "k - 1": (r"\) >= 2$", ") >= 1"),
    "n + 1 windows": (r"71h59m59s999ms", "72h"),
    "a floor's value breaches it": (r"< bool", "<= bool"),
    "a ceiling's value breaches it": (r"> bool", ">= bool"),
    "the immediate value is not reached": (r"<= 0\.95\b", "< 0.95"),
}


@pytest.mark.parametrize("mutation", MUTATIONS)
def test_generated_tests_fail_on_wrong_rules(tmp_path, mutation):
    write(monitoring_files(hostile_document(), STAMP), tmp_path)
    rules = tmp_path / "prometheus-rules.yml"
    pattern, replacement = MUTATIONS[mutation]
    mutated, count = re.subn(pattern, replacement, rules.read_text(), flags=re.MULTILINE)
    assert count >= 1, f"the mutation {mutation!r} found nothing to change"
    rules.write_text(mutated)
    assert promtool(tmp_path, "test", "rules", "prometheus-rules.test.yml").returncode == 1


def test_alert_labels_print_framework_text_as_one_line_never_as_a_template():
    rules = yaml.safe_load(monitoring_files(hostile_document(), STAMP)["prometheus-rules.yml"])
    alert = rules["groups"][0]["rules"][1]
    assert alert["labels"]["output_type"] == template_literal(one_line(HOSTILE))
    assert alert["labels"]["owner"] == template_literal(f"Owner {one_line(HOSTILE)} (CTO)")


def test_a_line_separator_in_a_stamp_cannot_end_the_comment():
    stamp = Stamp(engagement="x\u2028groups: []\nrule_files: []", version=1, sha256="0" * 64)
    header = monitoring_files(hostile_document(), stamp)["prometheus-rules.yml"].split("groups:")[0]
    assert all(line.startswith("#") for line in header.splitlines())


# OpenSLO


def test_openslo_has_one_slo_and_one_sli_per_bound():
    text = monitoring_files(hostile_document(), STAMP)["openslo.yaml"]
    kinds = [document["kind"] for document in yaml.safe_load_all(text)]
    assert (kinds.count("SLO"), kinds.count("SLI")) == (3, 3)


def test_openslo_slo_reads_the_bound_and_its_trigger_rule():
    text = monitoring_files(hostile_document(), STAMP)["openslo.yaml"]
    slo = [document for document in yaml.safe_load_all(text) if document["kind"] == "SLO"][1]
    objective = slo["spec"]["objectives"][0]
    assert (objective["op"], objective["value"], objective["timeSliceWindow"]) == ("lte", 800, "1h")
    assert slo["spec"]["timeWindow"] == [{"duration": "1h", "isRolling": True}]


def test_openslo_target_breaks_at_k_bad_windows_and_not_at_k_minus_one():
    bound = monitored_bounds(hostile_document())[0]
    wrong = []
    for windows in range(1, 101):
        for breaches in range(1, windows + 1):
            slo_target = target(
                bound.__class__(**{**vars(bound), "breaches": breaches, "windows": windows})
            )
            broken_at_k = (windows - breaches) / windows < slo_target
            met_at_k_minus_one = (windows - breaches + 1) / windows >= slo_target
            if not (broken_at_k and met_at_k_minus_one and 0 <= slo_target < 1):
                wrong.append((breaches, windows, slo_target))
    assert wrong == []


def test_openslo_names_are_rfc_1123_labels_and_distinct():
    keys = ["Fine_Tuning", "fine-tuning", "x" * 80, "x" * 81, "ok-key"]
    names = [object_name(key) for key in keys]
    assert all(re.fullmatch(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", name) for name in names)
    assert len(set(names)) == len(keys) and names[-1] == "ok-key"


# LiteLLM


def _litellm(document: dict[str, Any]) -> dict[str, Any]:
    return yaml.safe_load(monitoring_files(document, STAMP)["litellm.yaml"])


def _routed_params(fragment: dict[str, Any]) -> dict[str, Any]:
    return next(
        entry["litellm_params"]
        for entry in fragment["model_list"]
        if entry["model_name"] == "escalation-level/hybrid"
    )


def test_litellm_budget_is_a_one_off_ceiling_renewed_with_each_review():
    params = _routed_params(_litellm(hostile_document(frequency="semiannual")))
    assert (params["max_budget"], params["budget_duration"]) == (60000.0, "6mo")


def test_litellm_budget_of_a_monthly_ceiling_renews_monthly():
    document = hostile_document()
    document["levels"][1]["cost_ceiling_basis"] = "monthly"
    assert _routed_params(_litellm(document))["budget_duration"] == "1mo"


def test_litellm_asks_to_convert_a_ceiling_not_in_dollars():
    text = monitoring_files(hostile_document(), STAMP)["litellm.yaml"]
    assert "# LiteLLM counts spend in USD: max_budget is the EUR figure" in text


def test_litellm_reads_the_framework_currency_when_the_level_has_none():
    document = hostile_document()
    document["governance"]["currency"], document["levels"][1]["currency"] = "USD", ""
    assert "convert" not in monitoring_files(document, STAMP)["litellm.yaml"]


def test_alerts_name_a_monthly_ceiling_per_month():
    document = hostile_document()
    document["levels"][0]["cost_ceiling_basis"] = "monthly"
    rules = monitoring_files(document, STAMP)["prometheus-rules.yml"]
    assert "cost ceiling EUR 120,000 per month." in rules


def test_litellm_level_without_ceiling_has_no_budget():
    document = hostile_document()
    document["levels"][1]["cost_ceiling"] = None
    assert "max_budget" not in _routed_params(_litellm(document))


def test_litellm_falls_back_from_each_system_the_level_concerns():
    document = hostile_document()
    document["bounds"][2]["escalates_to"] = ["hybrid"]
    fallbacks = _litellm(document)["router_settings"]["fallbacks"]
    assert fallbacks == [{"Bot_1": ["escalation-level/hybrid"]}]


def test_no_litellm_file_without_a_hybrid_routing_level():
    document = hostile_document()
    document["levels"].pop()
    assert list(monitoring_files(document, STAMP)) == [
        "prometheus-rules.yml",
        "prometheus-rules.test.yml",
        "openslo.yaml",
    ]


# Every file


def test_every_file_is_stamped_with_engagement_version_and_hash():
    files = monitoring_files(hostile_document(), STAMP)
    stamp_lines = [
        f"# Engagement: {STAMP.engagement}",
        "# Version: v3",
        f"# Version SHA-256: {'ab' * 32}",
    ]
    assert all(line in text.splitlines() for text in files.values() for line in stamp_lines)


def test_every_file_is_yaml():
    files = monitoring_files(hostile_document(), STAMP)
    assert all(list(yaml.safe_load_all(text)) for text in files.values())


def test_the_same_document_gives_the_same_bytes_whatever_its_key_order():
    document = hostile_document()
    reordered = {key: document[key] for key in reversed(document)}
    reordered["bounds"] = [dict(reversed(bound.items())) for bound in document["bounds"]]
    assert monitoring_files(reordered, STAMP) == monitoring_files(hostile_document(), STAMP)
