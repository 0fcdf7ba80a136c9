"""The same intent as the Prometheus rules in OpenSLO v1: one SLI and one SLO per bound.

A bound's k-of-n rule reads as a Timeslices SLO: each slice is one measurement window, good when
the window meets the bound; the rolling time window is the last n windows; the SLO is broken when
k of them are bad, that is when fewer than n - k + 1 are good. OpenSLO's target must lie in
[0, 1): the target written is halfway between (n - k) / n and (n - k + 1) / n, so "good fraction
below target" holds at exactly k bad slices and not at k - 1, whatever k and n.

OpenSLO has no immediate breach: the value rides along as an annotation (the Prometheus alert
carries it out), with the bound's key, its trigger rule and the level it escalates to.
"""

from __future__ import annotations

import hashlib
import re
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from escalation.exports.monitored import MonitoredBound, Stamp, header, yaml_documents
from escalation.exports.prometheus import WINDOW_SAMPLES, WINDOW_VALUE, selector
from escalation.text import visible

OPENSLO_FILE = "openslo.yaml"
ANNOTATION_PREFIX = "escalation-workshop"
DESCRIPTION_LENGTH = 1050  # OpenSLO's limit
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


def object_name(key: str) -> str:
    """A key as an OpenSLO name (RFC 1123: at most 63 lowercase letters, digits and dashes,
    starting and ending alphanumeric). A key that is one already is kept; any other is cleaned and
    suffixed with a short hash of the key, so two keys never share a name."""
    if _NAME.match(key):
        return key
    cleaned = re.sub(r"[^a-z0-9]+", "-", key.lower()).strip("-")[:54].strip("-")
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{cleaned}-{digest}" if cleaned else f"bound-{digest}"


def target(bound: MonitoredBound) -> float:
    k, n = bound.breaches, bound.windows
    halfway = Decimal(2 * (n - k) + 1) / Decimal(2 * n)
    return float(halfway.quantize(Decimal("0.000001"), rounding=ROUND_HALF_EVEN))


def _query(bound: MonitoredBound) -> str:
    query = f"{WINDOW_VALUE}{selector(bound)}"
    if bound.minimum_sample_size is None:
        return query
    return f"{query} and ({WINDOW_SAMPLES}{selector(bound)} >= {bound.minimum_sample_size})"


def _short(text: str) -> str:
    text = visible(text)
    return text if len(text) <= DESCRIPTION_LENGTH else text[: DESCRIPTION_LENGTH - 1] + "…"


def _annotations(bound: MonitoredBound) -> dict[str, str]:
    annotations = {
        f"{ANNOTATION_PREFIX}/bound-key": bound.key,
        f"{ANNOTATION_PREFIX}/ai-system-key": bound.system_key,
        f"{ANNOTATION_PREFIX}/trigger-rule": bound.trigger_rule,
        f"{ANNOTATION_PREFIX}/unit": bound.unit,
    }
    if bound.immediate_breach_value is not None:
        annotations[f"{ANNOTATION_PREFIX}/immediate-breach-value"] = str(
            bound.immediate_breach_value
        )
    if bound.minimum_sample_size is not None:
        annotations[f"{ANNOTATION_PREFIX}/minimum-sample-size"] = str(bound.minimum_sample_size)
    if bound.level is not None:
        annotations[f"{ANNOTATION_PREFIX}/escalation-level"] = bound.level.key
        annotations[f"{ANNOTATION_PREFIX}/owner"] = bound.level.owner
    return annotations


def sli(bound: MonitoredBound) -> dict[str, Any]:
    return {
        "apiVersion": "openslo/v1",
        "kind": "SLI",
        "metadata": {
            "name": object_name(bound.key),
            "displayName": f"{bound.where}: {bound.phrase}",
        },
        "spec": {
            "description": _short(
                f"{bound.where}: the window's value in the bound's unit ({bound.unit})."
            ),
            "thresholdMetric": {
                "metricSource": {"type": "Prometheus", "spec": {"query": _query(bound)}}
            },
        },
    }


def slo(bound: MonitoredBound) -> dict[str, Any]:
    return {
        "apiVersion": "openslo/v1",
        "kind": "SLO",
        "metadata": {
            "name": object_name(bound.key),
            "displayName": f"{bound.where}: {bound.phrase}",
            "annotations": _annotations(bound),
        },
        "spec": {
            "description": _short(f"{bound.where}: {bound.phrase}. {bound.trigger_rule}."),
            "service": object_name(bound.system_key or "ai-system"),
            "indicatorRef": object_name(bound.key),
            "timeWindow": [
                {"duration": f"{bound.windows * bound.window_hours}h", "isRolling": True}
            ],
            "budgetingMethod": "Timeslices",
            "objectives": [
                {
                    "displayName": bound.phrase,
                    "op": "gte" if bound.at_least else "lte",
                    "value": float(bound.value),
                    "target": target(bound),
                    "timeSliceTarget": 1,
                    "timeSliceWindow": f"{bound.window_hours}h",
                }
            ],
        },
    }


def openslo_file(bounds: list[MonitoredBound], stamp: Stamp, framework_name: str) -> str:
    notes = [
        "",
        "One SLI and one SLO per bound. Each time slice is one measurement window, good when it",
        "meets the bound; the SLO breaks at k bad windows of the last n (its trigger rule).",
        f"The SLIs read {WINDOW_VALUE} as prometheus-rules.yml does.",
    ]
    documents: list[dict[str, Any]] = []
    for bound in bounds:
        documents += [sli(bound), slo(bound)]
    return header(stamp, framework_name, "OpenSLO v1", notes) + (
        yaml_documents(documents) if documents else ""
    )
