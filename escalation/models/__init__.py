"""The escalation framework's models, split by subject; import them from here.

- `framework`: the framework, its editable items (systems, thresholds, levels, bounds) and the
  helpers every item shares (optimistic locking, field labels);
- `triggers`: failure modes and the review protocol's drift and external triggers;
- `versions`: frozen versions, drawn ladders and generated packs.
"""

from escalation.models.framework import (
    DEFAULT_CURRENCY,
    DEFAULT_OVERRUN_RULE,
    DEFAULT_SCOPE_CREEP_RULE,
    GROUP_RULES,
    AISystem,
    ApprovalRule,
    Bound,
    CostBasis,
    Direction,
    EscalationLevel,
    Framework,
    FrameworkItem,
    LatencyPercentile,
    LevelKind,
    MetricKind,
    ReviewFrequency,
    StaleEditError,
    Threshold,
    TimelineUnit,
    Unit,
    field_label,
)
from escalation.models.triggers import (
    DriftMetric,
    DriftTrigger,
    ExternalEvent,
    ExternalTrigger,
    FailureKind,
    FailureMode,
    Severity,
)
from escalation.models.versions import (
    PACK_STALLED_AFTER,
    DiagramRender,
    FrameworkVersion,
    Pack,
    PackQuerySet,
    PackStatus,
    pack_stalled_after,
)

__all__ = [
    "DEFAULT_CURRENCY",
    "DEFAULT_OVERRUN_RULE",
    "DEFAULT_SCOPE_CREEP_RULE",
    "GROUP_RULES",
    "PACK_STALLED_AFTER",
    "AISystem",
    "ApprovalRule",
    "Bound",
    "CostBasis",
    "DiagramRender",
    "Direction",
    "DriftMetric",
    "DriftTrigger",
    "EscalationLevel",
    "ExternalEvent",
    "ExternalTrigger",
    "FailureKind",
    "FailureMode",
    "Framework",
    "FrameworkItem",
    "FrameworkVersion",
    "LatencyPercentile",
    "LevelKind",
    "MetricKind",
    "Pack",
    "PackQuerySet",
    "PackStatus",
    "ReviewFrequency",
    "Severity",
    "StaleEditError",
    "Threshold",
    "TimelineUnit",
    "Unit",
    "field_label",
    "pack_stalled_after",
]
