"""Escalation cases: the rules that turn a fired bound, a drift trigger or an external event into a
proposal up the signed-off ladder, and the decisions that follow it.

- A fired window opens a case for its system and bound, or adds evidence to the case in play for
  them (open, or approved with its sunset clock running). A window is evidence once, whichever
  version re-reports it.
- The proposal is the next rung above the system's live level that is available to it. The bound
  may name the levels it escalates to: a jump to the lowest of those past rungs not yet tried is
  proposed only when that level states its skip (direct-entry) approval, and the proposal names
  it (the scope-creep rule); otherwise the next rung is proposed.
- The owner, approval rule, deputy, cost ceiling, estimate and timeline are the proposed level's,
  as the version in force states them (a snapshot: a later version does not rewrite the case).
- Only a member named by the level (owner, deputy, or approval group) with the approver role
  decides, with step-up; a facilitator never decides for an owner. Approval needs as many
  distinct approvals as the level's rule; it moves the system's live level and starts the sunset
  clock of the level's sunset rule.
- The sunset verdict reads the stored windows after approval: improved (the latest window closed
  the required fraction of the gap between the value at approval and the bound) proposes closure;
  not improved by the sunset date proposes roll-back (the level goes back).

Every step writes the case's timeline and the audit trail, and mails the owner through the worker
once the step has committed.
"""

from __future__ import annotations

import datetime
import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from escalation import formatting
from escalation.document import upgrade_document
from escalation.models import FrameworkVersion
from escalation.text import one_line, refusal, shortened
from monitoring.drift import DriftRule
from monitoring.models import (
    CaseEvent,
    CaseEvidence,
    CaseKind,
    CaseStatus,
    EscalationCase,
    SystemLevel,
    WindowKind,
    WindowOutcome,
    WindowResult,
)
from workshops.audit import AuditVerb, record_activities, record_activity
from workshops.models import Capability, Engagement, Membership, Role
from workshops.notifications import Mail, queue_mail
from workshops.people import display_name
from workshops.stepup import Authentication

REASON_MAX = 2000


class CaseRefusedError(Exception):
    """A decision the case's state does not allow now; the message says why."""


# The ladder, read from a framework document (upgraded, so any frozen version reads).


def levels_of(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The ladder's rungs, lowest first (the document lists them in ladder order)."""
    return [level for level in document.get("levels", []) if isinstance(level, dict)]


def level_label(document: dict[str, Any], key: str) -> str:
    """ "2. Retrieval augmentation"; "" for no level."""
    for number, level in enumerate(levels_of(document), start=1):
        if level.get("key") == key:
            return f"{number}. {level.get('name') or key}"
    return key


def _system(document: dict[str, Any], key: str) -> dict[str, Any]:
    for system in document.get("ai_systems", []):
        if isinstance(system, dict) and system.get("key") == key:
            return system
    return {}


def _bound(document: dict[str, Any], key: str) -> dict[str, Any]:
    for bound in document.get("bounds", []):
        if isinstance(bound, dict) and bound.get("key") == key:
            return bound
    return {}


@dataclass(frozen=True)
class Proposal:
    level: dict[str, Any] | None
    skipped: list[str] = field(default_factory=list)  # labels of untried rungs jumped past
    skip_approval: str = ""  # the jumped-to level's stated direct entry and its approver
    note: str = ""


def propose_level(
    document: dict[str, Any], ai_system: str, current_key: str, wanted: Sequence[str] = ()
) -> Proposal:
    """The level to propose for `ai_system` standing at `current_key` ("" below the first rung):
    the next rung above it that is available to the system, or the lowest of the `wanted` levels
    (a bound's escalates-to) above it when reaching that one skips no untried rung, or skips some
    and the level states its direct-entry approval."""
    ladder = levels_of(document)
    keys = [level.get("key") for level in ladder]
    start = keys.index(current_key) + 1 if current_key in keys else 0
    unavailable = set(_system(document, ai_system).get("unavailable_levels") or [])
    above = [level for level in ladder[start:] if level.get("key") not in unavailable]
    if not above:
        return Proposal(None, note="No rung above the system's level is available to it.")
    next_rung = above[0]
    target = next((level for level in above if level.get("key") in set(wanted)), None)
    if target is None or target is next_rung:
        return Proposal(next_rung)
    skipped = [level_label(document, str(level.get("key"))) for level in above]
    skipped = skipped[: above.index(target)]
    stated = formatting.direct_entry(
        target.get("direct_entry_when"), target.get("direct_entry_approver")
    )
    if stated:
        return Proposal(
            target,
            skipped,
            stated,
            f"Skips {', '.join(skipped)}: the level's direct entry applies. {stated}",
        )
    return Proposal(
        next_rung,
        note=(
            f"The bound escalates to {level_label(document, str(target.get('key')))}, but "
            f"{', '.join(skipped)} {'is' if len(skipped) == 1 else 'are'} not tried yet and the "
            "level states no skip approval: the next rung is proposed (scope-creep rule)."
        ),
    )


def approvals_required(level: dict[str, Any]) -> int:
    """How many distinct approvals the level's rule asks for."""
    group = formatting.names(level.get("approval_group"))
    if level.get("approval_rule") == "all_of_group":
        return max(len(group), 1)
    if level.get("approval_rule") == "k_of_group":
        return max(int(level.get("approvals_required") or 1), 1)
    return 1


def _normal(name: str) -> str:
    return " ".join(str(name).split()).casefold()


def governance_of(document: dict[str, Any], level: dict[str, Any] | None) -> dict[str, Any]:
    """The proposed level's governance as the case keeps it (field → value)."""
    if level is None:
        return {}
    currency = (document.get("governance") or {}).get("currency")
    owner_name = str(level.get("approval_owner_name") or "")
    deciders = [
        owner_name,
        str(level.get("deputy_name") or ""),
        *formatting.names(level.get("approval_group")),
    ]
    return {
        "proposed_level_key": str(level.get("key") or ""),
        "proposed_level_name": shortened(level_label(document, str(level.get("key"))), 250),
        "owner_name": shortened(owner_name, 200),
        "owner": shortened(
            formatting.approval_owner(owner_name, level.get("approval_owner_role")), 450
        ),
        "deputy": shortened(
            formatting.deputy(level.get("deputy_name"), level.get("deputy_role")), 450
        ),
        "approval_rule": shortened(formatting.level_approval(level), 1000),
        "approvals_required": approvals_required(level),
        "deciders": sorted({_normal(name) for name in deciders if name.strip()}),
        "cost_ceiling": shortened(formatting.level_ceiling(level, currency), 200),
        "cost_estimate": shortened(formatting.level_estimate(level, currency), 200),
        "timeline": shortened(formatting.level_timeline(level), 200),
    }


def _sunset_rule(document: dict[str, Any], level_key: str) -> dict[str, Any] | None:
    for rule in (document.get("review_cycle") or {}).get("sunset_rules", []):
        if isinstance(rule, dict) and level_key in (rule.get("levels") or []):
            return rule
    return None


def failure_modes_detected(document: dict[str, Any], bound_key: str) -> list[str]:
    """The names of the failure modes the bound detects, as the version states them."""
    return [
        str(mode.get("name") or mode.get("key"))
        for mode in document.get("failure_modes", [])
        if isinstance(mode, dict) and bound_key and bound_key in (mode.get("detected_by") or [])
    ]


# The live level.


def live_levels(engagement: Engagement, document: dict[str, Any]) -> dict[str, str]:
    """Each system's live level key: recorded by a decision, else the signed-off document's
    current level (one query)."""
    levels = {
        str(system.get("key")): str(system.get("current_level") or "")
        for system in document.get("ai_systems", [])
        if isinstance(system, dict)
    }
    return levels | decided_levels(engagement)


def decided_levels(
    engagement: Engagement, ai_systems: Iterable[str] | None = None
) -> dict[str, str]:
    """The level a decided case moved each system to, of `ai_systems` only when given (one
    query): a system that is not here is at its signed-off document's current level."""
    rows = SystemLevel.objects.filter(engagement=engagement)
    if ai_systems is not None:
        rows = rows.filter(ai_system__in=list(ai_systems))
    return dict(rows.values_list("ai_system", "level_key"))


def _move_level(case: EscalationCase, to_key: str, actor: Any, note: str) -> None:
    SystemLevel.objects.update_or_create(
        engagement=case.engagement,
        ai_system=case.ai_system,
        defaults={"level_key": to_key, "changed_at": timezone.now()},
    )
    from_key = case.proposed_level_key if to_key == case.from_level_key else case.from_level_key
    _event(case, CaseEvent.Kind.LEVEL_MOVED, actor, note, levels=(from_key, to_key))


# Opening cases and adding evidence.


class FiredWindow(NamedTuple):
    """What a case keeps of a stored fired window (a WindowResult's fields): read as plain rows,
    as a full evaluation reads thousands of them."""

    id: int
    ai_system: str
    bound_key: str
    window_start: datetime.datetime
    window_hours: int
    value: float | None
    sample_size: int
    outcome: str
    immediate_breach: bool
    fired: bool


# A stored fired window, as a model or as a row.
Fired = WindowResult | FiredWindow


def fired_results(
    version: FrameworkVersion, judged: Iterable[tuple[Any, Any]]
) -> list[FiredWindow]:
    """The stored results of the fired windows among `judged` ((rule, window) pairs just saved,
    all of bounds or all of drift triggers)."""
    fired = [(rule, rule.window_start(window.index)) for rule, window in judged if window.fired]
    if not fired:
        return []
    kind = WindowKind.DRIFT if isinstance(fired[0][0], DriftRule) else WindowKind.BOUND
    # A superset at worst (keys × starts): evidence already recorded is skipped.
    rows = WindowResult.objects.filter(
        version=version,
        kind=kind,
        fired=True,
        bound_key__in={rule.key for rule, _ in fired},
        window_start__in={start for _, start in fired},
    ).values_list(*FiredWindow._fields)
    return [FiredWindow(*row) for row in rows]


def record_fired_drift(
    engagement: Engagement, version: FrameworkVersion, windows: Iterable[Fired]
) -> list[EscalationCase]:
    """Fired windows of drift triggers: each (system, trigger) opens a drift review case, or adds
    them as evidence to the one in play; the cases opened. A constant number of queries however
    many triggers fired (none when none did): a trigger for every system fires for all of them
    at once."""
    by_trigger: dict[tuple[str, str], list[Fired]] = {}
    for window in sorted(windows, key=lambda w: w.window_start):
        by_trigger.setdefault((window.ai_system, window.bound_key), []).append(window)
    if not by_trigger:
        return []
    document = upgrade_document(version.document)
    sentences = {
        trigger.get("key"): formatting.drift_trigger(
            metric=str(trigger.get("metric") or ""),
            comparison=str(trigger.get("comparison") or ""),
            operator=str(trigger.get("operator") or ""),
            value=trigger.get("value"),
            window=trigger.get("window"),
            window_unit=trigger.get("window_unit"),
            note=str(trigger.get("note") or ""),
        )
        for trigger in (document.get("review_cycle") or {}).get("drift_triggers", [])
        if isinstance(trigger, dict)
    }
    # The case in play for each (system, trigger): the oldest, when there are several.
    active: dict[tuple[str, str], EscalationCase] = {}
    for case in (
        EscalationCase.objects.active()
        .filter(engagement=engagement, kind=CaseKind.DRIFT)
        .filter(trigger_key__in={key for _, key in by_trigger})
        .order_by("-pk")
    ):
        case.engagement = engagement
        active[(case.ai_system, case.trigger_key)] = case
    known: dict[int, set[tuple[str, datetime.datetime]]] = {}
    for case_id, bound_key, start in CaseEvidence.objects.filter(
        case__in=[active[pair] for pair in by_trigger if pair in active]
    ).values_list("case_id", "bound_key", "window_start"):
        known.setdefault(case_id, set()).add((bound_key, start))
    missing = [pair for pair in by_trigger if pair not in active]
    levels = live_levels(engagement, document) if missing else {}
    fresh = {}
    for system, trigger_key in missing:
        reason = f"Drift trigger {trigger_key} fired: {sentences.get(trigger_key, '')}"
        fresh[(system, trigger_key)] = _review_case(
            engagement,
            version,
            document,
            levels,
            ai_system=system,
            kind=CaseKind.DRIFT,
            trigger_key=trigger_key,
            reason=one_line(reason).rstrip(": "),
        )
    # Atomic: a case, its evidence and its first events together.
    with transaction.atomic():
        EscalationCase.objects.bulk_create(fresh.values())
        evidence, events, entries, opened = [], [], [], []
        for pair, fired in by_trigger.items():
            if pair in fresh:
                case = fresh[pair]
                opened.append(case)
                evidence += [_evidence(case, window) for window in fired]
                events.append(_event_row(case, CaseEvent.Kind.OPENED, None, case.reason))
                entries.append(_opened_entry(case, case.reason, None))
                continue
            case = active[pair]
            recorded = known.get(case.pk, set())
            new = [w for w in fired if (w.bound_key, w.window_start) not in recorded]
            if new:
                count = f"{len(new)} fired window{'s' if len(new) != 1 else ''}"
                evidence += [_evidence(case, window) for window in new]
                events.append(_event_row(case, CaseEvent.Kind.EVIDENCE_ADDED, None, count))
                entries.append(
                    _audit_entry(
                        case, None, AuditVerb.CASE_EVIDENCE_ADDED, f"{count} added as evidence"
                    )
                )
        CaseEvidence.objects.bulk_create(evidence, ignore_conflicts=True)
        CaseEvent.objects.bulk_create(events)
        if entries:
            record_activities(engagement, None, entries)
        _mail_owners([(case, *_opened_mail(case)) for case in opened])
    return opened


def record_fired_windows(
    engagement: Engagement, version: FrameworkVersion, windows: Iterable[Fired]
) -> list[EscalationCase]:
    """Open a case for each system and bound with newly fired windows, or add them as evidence
    to the case in play; the cases opened. Windows that are evidence already are skipped. A
    constant number of queries, however many bounds fired: intake calls it on every batch."""
    fired = [window for window in windows if window.fired]
    if not fired:
        return []
    recorded = set(
        CaseEvidence.objects.filter(
            case__engagement=engagement,
            bound_key__in={w.bound_key for w in fired},
            window_start__in={w.window_start for w in fired},
        ).values_list("bound_key", "window_start")
    )
    by_bound: dict[tuple[str, str], list[Fired]] = {}
    for window in sorted(fired, key=lambda w: w.window_start):
        if (window.bound_key, window.window_start) not in recorded:
            by_bound.setdefault((window.ai_system, window.bound_key), []).append(window)
    if not by_bound:
        return []
    active = _active_breach_cases(engagement)
    missing = [pair for pair in by_bound if pair not in active]
    fresh = []
    if missing:  # the document and the live levels only for new cases: most batches add evidence
        document = upgrade_document(version.document)
        levels = live_levels(engagement, document)
        fresh = [
            _breach_case(engagement, version, document, system, bound_key, levels)
            for system, bound_key in missing
        ]
    if fresh:
        # The partial unique constraint skips a case another request opened for the same
        # bound a moment ago; the evidence then goes to that one.
        EscalationCase.objects.bulk_create(fresh, ignore_conflicts=True)
        active = _active_breach_cases(engagement)
    ours = {case.public_id for case in fresh}
    CaseEvidence.objects.bulk_create(
        [_evidence(active[pair], window) for pair, new in by_bound.items() for window in new],
        ignore_conflicts=True,  # a window another request recorded a moment ago
    )
    events, entries, opened = [], [], []
    for pair, new in by_bound.items():
        case = active[pair]
        count = f"{len(new)} fired window{'s' if len(new) != 1 else ''}"
        if case.public_id in ours:
            opened.append(case)
            events.append(_event_row(case, CaseEvent.Kind.OPENED, None, f"{case.reason}: {count}"))
            entries.append(_opened_entry(case, f"{case.reason}: {count}", None))
        else:
            events.append(_event_row(case, CaseEvent.Kind.EVIDENCE_ADDED, None, count))
            entries.append(
                _audit_entry(
                    case, None, AuditVerb.CASE_EVIDENCE_ADDED, f"{count} added as evidence"
                )
            )
    CaseEvent.objects.bulk_create(events)
    record_activities(engagement, None, entries)
    _mail_owners([(case, *_opened_mail(case)) for case in opened])
    return opened


def _active_breach_cases(engagement: Engagement) -> dict[tuple[str, str], EscalationCase]:
    found = {}
    for case in EscalationCase.objects.active().filter(
        engagement=engagement, kind=CaseKind.BOUND_BREACH
    ):
        case.engagement = engagement  # not joined: the same row for every case
        found[(case.ai_system, case.bound_key)] = case
    return found


def _breach_case(
    engagement: Engagement,
    version: FrameworkVersion,
    document: dict[str, Any],
    system: str,
    bound_key: str,
    levels: dict[str, str],
) -> EscalationCase:
    """A new (unsaved) case for the bound, proposing from the system's live level."""
    bound = _bound(document, bound_key)
    proposal = propose_level(
        document, system, levels.get(system, ""), bound.get("escalates_to") or []
    )
    return EscalationCase(
        engagement=engagement,
        version=version,
        ai_system=system,
        bound_key=bound_key,
        kind=CaseKind.BOUND_BREACH,
        reason=shortened(f"{formatting.bound_phrase(bound)} fired", REASON_MAX),
        **_proposal_fields(document, levels.get(system, ""), proposal),
        bound_text=shortened(formatting.bound_phrase(bound), 300),
        bound_value=_float(bound.get("value")),
        lower_is_better=bound.get("direction") == "at_most",
    )


def _evidence(case: EscalationCase, window: Fired) -> CaseEvidence:
    return CaseEvidence(
        case=case,
        window_id=window.id,
        bound_key=window.bound_key,
        window_start=window.window_start,
        window_hours=window.window_hours,
        value=window.value,
        sample_size=window.sample_size,
        outcome=window.outcome,
        immediate_breach=window.immediate_breach,
    )


def _float(value: Any) -> float | None:
    try:
        return None if value in (None, "") else float(value)
    except (TypeError, ValueError):
        return None


def _proposal_fields(
    document: dict[str, Any], current_key: str, proposal: Proposal
) -> dict[str, Any]:
    fields = governance_of(document, proposal.level)
    fields.update(
        from_level_key=current_key,
        skip_approval=proposal.skip_approval,
        proposal_note=proposal.note,
    )
    rule = _sunset_rule(document, fields.get("proposed_level_key", "")) if proposal.level else None
    if rule is not None:
        fields["sunset_after_days"] = rule.get("after_days")
        fields["required_improvement"] = Decimal(str(rule.get("required_improvement") or 0))
    return fields


def open_review_case(
    engagement: Engagement,
    version: FrameworkVersion,
    *,
    ai_system: str,
    kind: str,
    trigger_key: str,
    reason: str,
    evidence: Iterable[Fired] = (),
    actor: Any = None,
) -> EscalationCase:
    """Open a review case (an external event, a drift trigger) for `ai_system`, proposing the
    next rung above its live level by the same rules as a breach; `evidence` windows, if any,
    are attached."""
    document = upgrade_document(version.document)
    case = _review_case(
        engagement,
        version,
        document,
        live_levels(engagement, document),
        ai_system=ai_system,
        kind=kind,
        trigger_key=trigger_key,
        reason=reason,
    )
    with transaction.atomic():  # the case, its evidence and its first events together
        case.save()
        CaseEvidence.objects.bulk_create(_evidence(case, window) for window in evidence)
        _event(case, CaseEvent.Kind.OPENED, actor, case.reason)
        record_activities(engagement, actor, [_opened_entry(case, case.reason, actor)])
        _mail_owners([(case, *_opened_mail(case))])
    return case


def _review_case(
    engagement: Engagement,
    version: FrameworkVersion,
    document: dict[str, Any],
    levels: dict[str, str],
    *,
    ai_system: str,
    kind: str,
    trigger_key: str,
    reason: str,
) -> EscalationCase:
    """A new (unsaved) review case for `ai_system`, proposing from its live level in `levels`;
    ValidationError for a reason the text rules refuse or a system the version does not name."""
    if kind == CaseKind.BOUND_BREACH:
        raise ValueError("A breach case opens from fired windows (record_fired_windows).")
    if message := refusal(reason, multiline=True):
        raise ValidationError({"reason": message})
    if not _system(document, ai_system):
        raise ValidationError({"ai_system": f"{version.label} has no AI system {ai_system}."})
    current = levels.get(ai_system, "")
    return EscalationCase(
        engagement=engagement,
        version=version,
        ai_system=ai_system,
        trigger_key=trigger_key[:80],
        kind=kind,
        reason=shortened(reason.strip(), REASON_MAX),
        **_proposal_fields(document, current, propose_level(document, ai_system, current)),
    )


def matching_external_trigger(
    document: dict[str, Any], event: str, ai_system: str
) -> dict[str, Any] | None:
    """The version's external trigger for `event` that names `ai_system` (or names no system,
    and so concerns them all); one naming the system wins over one for all."""
    triggers = [
        trigger
        for trigger in (document.get("review_cycle") or {}).get("external_triggers", [])
        if isinstance(trigger, dict) and trigger.get("event") == event
    ]
    named = [t for t in triggers if ai_system in (t.get("ai_systems") or [])]
    for_all = [t for t in triggers if not t.get("ai_systems")]
    return (named or for_all)[0] if named or for_all else None


def record_external_event(
    engagement: Engagement,
    version: FrameworkVersion,
    user: Any,
    *,
    event: str,
    event_label: str,
    ai_system: str,
    text: str,
) -> EscalationCase:
    """A facilitator's record of an outside event: a review case pre-filled from the version's
    matching external trigger (its description and response)."""
    document = upgrade_document(version.document)
    trigger = matching_external_trigger(document, event, ai_system)
    if trigger is None:
        prefill = f"{event_label}. {version.label} names no external trigger for it."
    else:
        parts = [f"{event_label} ({trigger.get('key')})", trigger.get("description") or ""]
        if trigger.get("response"):
            parts.append(f"Response: {trigger['response']}")
        prefill = ". ".join(part.strip().rstrip(".") for part in parts if part.strip()) + "."
    reason = shortened(f"{text.strip()}\n\n{prefill}", REASON_MAX)
    case = open_review_case(
        engagement,
        version,
        ai_system=ai_system,
        kind=CaseKind.EXTERNAL_EVENT,
        trigger_key=str(trigger.get("key") or "") if trigger else "",
        reason=reason,
        actor=user,
    )
    record_activity(
        engagement,
        user,
        AuditVerb.EXTERNAL_EVENT_RECORDED,
        one_line(f"{display_name(user)} recorded {event_label} for {ai_system}: {text}"),
        anchor=f"cases/{case.public_id}",
    )
    return case


def _opened_entry(case: EscalationCase, note: str, actor: Any) -> tuple[AuditVerb, str, str]:
    proposed = case.proposed_level_name or "no level (none available)"
    return _audit_entry(case, actor, AuditVerb.CASE_OPENED, f"opened, proposing {proposed}: {note}")


def _opened_mail(case: EscalationCase) -> tuple[str, str]:
    proposed = case.proposed_level_name or "no level (none available)"
    return (
        f"Escalation proposed: {case.ai_system} to {proposed}",
        f"{case.reason}\n\nProposed: {proposed}. Approval: {case.approval_rule}. "
        f"Cost ceiling: {case.cost_ceiling}; estimate: {case.cost_estimate}.\n\n"
        "Approve or decline it, with a reason, on the case page:",
    )


# Deciding.


def may_decide(case: EscalationCase, membership: Membership | None) -> str:
    """Why the member may not decide on the case ("" when they may): an approver the level names
    (owner, deputy, or approval group). A facilitator never decides on an owner's behalf."""
    if membership is None:
        return "Only members of this engagement can do that."
    if not membership.can(Capability.APPROVE):
        return (
            f"As {membership.get_role_display().lower()} you cannot decide on an escalation: "
            f"its owner does ({case.owner or 'not named'})."
        )
    name = _normal(display_name(membership.user))
    if name not in set(case.deciders):
        return f"Only {case.owner or 'the owner'} or a member of the level's approval rule decides."
    # The framework names people, not accounts: a second approver account carrying the same
    # name (one an insider invited and named) must not pass for them. Neither decides until
    # the names tell them apart.
    approvers = Membership.objects.filter(
        engagement_id=membership.engagement_id, role=Role.APPROVER
    ).select_related("user")
    if sum(_normal(display_name(other.user)) == name for other in approvers) > 1:
        return (
            f"More than one approver of this engagement is named {display_name(membership.user)}: "
            "a facilitator must tell them apart (or remove one) before either decides."
        )
    return ""


def _check_decider(case: EscalationCase, user: Any) -> Membership:
    membership = Membership.objects.filter(engagement_id=case.engagement_id, user=user).first()
    if message := may_decide(case, membership):
        raise PermissionDenied(message)
    assert membership is not None
    return membership


def _locked(case: EscalationCase) -> EscalationCase:
    """Lock the case's row and re-read it, so a decision sees one made a moment ago."""
    locked = EscalationCase.objects.select_for_update().get(pk=case.pk)
    for name in ("status", "decided_at", "decided_by_id", "sunset_on", "baseline_value"):
        setattr(case, name, getattr(locked, name))
    return case


def _clean_reason(reason: str, *, required: bool) -> str:
    reason = reason.strip()
    if required and not reason:
        raise ValidationError({"reason": "Give a reason: it is recorded with the decision."})
    if message := refusal(reason, multiline=True):
        raise ValidationError({"reason": message})
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": f"Keep the reason under {REASON_MAX} characters."})
    return reason


def approvals_given(case: EscalationCase) -> int:
    return (
        case.events.filter(kind=CaseEvent.Kind.APPROVED, actor__isnull=False)
        .values("actor")
        .distinct()
        .count()
    )


def approve_case(
    case: EscalationCase, user: Any, reason: str, *, authentication: Authentication
) -> bool:
    """Record `user`'s approval; when the level's rule has its approvals, move the system to the
    proposed level and start the sunset clock. Returns whether the case is now approved."""
    reason = _clean_reason(reason, required=False)
    # Atomic under the case's row lock: two last approvers at once must move the level once.
    with transaction.atomic():
        _check_decider(_locked(case), user)
        if case.status != CaseStatus.OPEN:
            raise CaseRefusedError(f"The case is {case.get_status_display().lower()} already.")
        if not case.proposed_level_key:
            raise CaseRefusedError("The case proposes no level: there is nothing to approve.")
        if case.events.filter(kind=CaseEvent.Kind.APPROVED, actor=user).exists():
            raise CaseRefusedError("You approved this escalation already.")
        document = upgrade_document(case.version.document)
        now_at = live_levels(case.engagement, document).get(case.ai_system, "")
        if now_at != case.from_level_key:
            raise CaseRefusedError(
                f"The system has moved to {level_label(document, now_at) or 'no level'} since "
                "the case opened, so its proposal no longer follows the ladder: decline it; the "
                "next fired window proposes again from the new level."
            )
        _event(case, CaseEvent.Kind.APPROVED, user, reason, authentication=authentication)
        _audit(case, user, AuditVerb.CASE_APPROVED, f"approved {case.proposed_level_name}", reason)
        given = approvals_given(case)
        if given < case.approvals_required:
            _mail_owner(
                case,
                f"Escalation approved by {display_name(user)} ({given} of "
                f"{case.approvals_required}): {case.ai_system}",
                f"{display_name(user)} approved the move to {case.proposed_level_name}. "
                f"{case.approvals_required - given} more approval(s) needed.",
            )
            return False
        now = timezone.now()
        case.status = CaseStatus.APPROVED
        case.decided_by, case.decided_at, case.decision_reason = user, now, reason
        case.baseline_value = _latest_value(case, before=now)
        if case.sunset_after_days is not None:
            case.sunset_on = now.date() + datetime.timedelta(days=case.sunset_after_days)
        case.save()
        _move_level(case, case.proposed_level_key, user, f"Moved to {case.proposed_level_name}")
        clock = (
            f" The sunset clock runs to {formatting.date(case.sunset_on)}."
            if case.sunset_on
            else " No sunset rule covers the level."
        )
        _mail_owner(
            case,
            f"Escalation approved: {case.ai_system} to {case.proposed_level_name}",
            f"{display_name(user)} approved it: {reason or '(no note)'}.{clock}",
        )
        return True


def decline_case(
    case: EscalationCase, user: Any, reason: str, *, authentication: Authentication
) -> None:
    reason = _clean_reason(reason, required=True)
    with transaction.atomic():  # the state and its event together, under the row lock
        _check_decider(_locked(case), user)
        if case.status != CaseStatus.OPEN:
            raise CaseRefusedError(f"The case is {case.get_status_display().lower()} already.")
        now = timezone.now()
        case.status = CaseStatus.DECLINED
        case.decided_by, case.decided_at, case.decision_reason, case.ended_at = (
            user,
            now,
            reason,
            now,
        )
        case.save()
        _event(case, CaseEvent.Kind.DECLINED, user, reason, authentication=authentication)
        _audit(case, user, AuditVerb.CASE_DECLINED, f"declined {case.proposed_level_name}", reason)
        _mail_owner(
            case,
            f"Escalation declined: {case.ai_system}",
            f"{display_name(user)} declined the move to {case.proposed_level_name}: {reason}",
        )


# The sunset verdict.


class Verdict(enum.StrEnum):
    IMPROVED = "improved"  # closure proposed
    NOT_IMPROVED = "not_improved"  # roll-back proposed
    PENDING = "pending"  # the clock runs
    NO_RULE = "no_rule"  # no sunset rule or no metric: a decision closes or rolls back


@dataclass(frozen=True)
class SunsetVerdict:
    verdict: Verdict
    target: float | None = None  # the value that closes the required fraction of the gap
    latest: float | None = None
    latest_start: datetime.datetime | None = None
    closed_fraction: float | None = None

    @property
    def proposes(self) -> str:
        return {
            Verdict.IMPROVED: "closure",
            Verdict.NOT_IMPROVED: "roll-back",
        }.get(self.verdict, "")


def improvement_target(
    baseline: float, bound: float, fraction: float, *, lower_is_better: bool
) -> float:
    """The value that closes `fraction` of the gap between `baseline` (the metric at approval)
    and `bound`; the bound itself when the baseline met it already."""
    gap = (baseline - bound) if lower_is_better else (bound - baseline)
    if gap <= 0:
        return bound
    return baseline - fraction * gap if lower_is_better else baseline + fraction * gap


def _latest_value(
    case: EscalationCase, *, before: datetime.datetime, after: datetime.datetime | None = None
) -> float | None:
    found = _latest_window(case, before=before, after=after)
    return found[1] if found else None


def _latest_window(
    case: EscalationCase, *, before: datetime.datetime, after: datetime.datetime | None = None
) -> tuple[datetime.datetime, float] | None:
    """The latest window of the case's bound with enough data, starting before `before` (and at
    or after `after`): (start, value)."""
    if not case.bound_key:
        return None
    windows = WindowResult.objects.filter(
        engagement_id=case.engagement_id,
        bound_key=case.bound_key,
        value__isnull=False,
        window_start__lt=before,
    ).exclude(outcome=WindowOutcome.NOT_ENOUGH_DATA)
    if after is not None:
        windows = windows.filter(window_start__gte=after)
    row = (
        windows.order_by("-window_start", "-evaluated_at")
        .values_list("window_start", "value")
        .first()
    )
    return (row[0], float(row[1])) if row and row[1] is not None else None


def sunset_verdict(case: EscalationCase, *, today: datetime.date | None = None) -> SunsetVerdict:
    """From the stored windows after approval: whether the metric closed the required fraction
    of the gap by the sunset date (closure proposed), or not by then (roll-back proposed)."""
    if case.status != CaseStatus.APPROVED or case.decided_at is None:
        return SunsetVerdict(Verdict.PENDING)
    if (
        case.sunset_on is None
        or case.required_improvement is None
        or case.bound_value is None
        or case.baseline_value is None
    ):
        return SunsetVerdict(Verdict.NO_RULE)
    today = today or timezone.localdate()
    target = improvement_target(
        case.baseline_value,
        case.bound_value,
        float(case.required_improvement),
        lower_is_better=case.lower_is_better,
    )
    sunset = datetime.datetime.combine(case.sunset_on, datetime.time(), tzinfo=datetime.UTC)
    found = _latest_window(case, before=sunset, after=case.decided_at)
    if found is None:
        return SunsetVerdict(
            Verdict.NOT_IMPROVED if today >= case.sunset_on else Verdict.PENDING, target
        )
    start, latest = found
    gap = case.baseline_value - target
    closed = (
        None
        if gap == 0
        else (case.baseline_value - latest) / gap * float(case.required_improvement)
    )
    improved = latest <= target if case.lower_is_better else latest >= target
    if improved:
        verdict = Verdict.IMPROVED
    else:
        verdict = Verdict.NOT_IMPROVED if today >= case.sunset_on else Verdict.PENDING
    return SunsetVerdict(verdict, target, latest, start, closed)


def _end(
    case: EscalationCase,
    user: Any,
    reason: str,
    authentication: Authentication,
    *,
    rolling_back: bool,
    today: datetime.date | None,
) -> None:
    reason = _clean_reason(reason, required=True)
    with transaction.atomic():  # the state, the level and the events together, under the lock
        _check_decider(_locked(case), user)
        if case.status != CaseStatus.APPROVED:
            raise CaseRefusedError(
                f"Only an approved escalation ends: the case is "
                f"{case.get_status_display().lower()}."
            )
        found = sunset_verdict(case, today=today)
        allowed = {Verdict.NO_RULE, Verdict.NOT_IMPROVED if rolling_back else Verdict.IMPROVED}
        if found.verdict not in allowed:
            raise CaseRefusedError(
                "The sunset verdict proposes "
                + (found.proposes or "nothing yet: the clock runs")
                + f", not {'roll-back' if rolling_back else 'closure'}."
            )
        if found.verdict != Verdict.NO_RULE:
            _event(
                case,
                CaseEvent.Kind.SUNSET_VERDICT,
                None,
                f"Latest value {found.latest if found.latest is not None else '–'} against "
                f"{found.target:.4g} required: {found.proposes} proposed.",
            )
        case.status = CaseStatus.ROLLED_BACK if rolling_back else CaseStatus.CLOSED
        case.ended_at = timezone.now()
        case.save(update_fields=["status", "ended_at"])
        if rolling_back:
            _move_level(
                case,
                case.from_level_key,
                user,
                f"Back to {case.from_level_key or 'no level'}",
            )
        kind = CaseEvent.Kind.ROLLED_BACK if rolling_back else CaseEvent.Kind.CLOSED
        _event(case, kind, user, reason, authentication=authentication)
        verb = AuditVerb.CASE_ROLLED_BACK if rolling_back else AuditVerb.CASE_CLOSED
        _audit(case, user, verb, "rolled back" if rolling_back else "closed", reason)
        _mail_owner(
            case,
            f"Escalation {'rolled back' if rolling_back else 'closed'}: {case.ai_system}",
            f"{display_name(user)} recorded it: {reason}",
        )


def close_case(
    case: EscalationCase,
    user: Any,
    reason: str,
    *,
    authentication: Authentication,
    today: datetime.date | None = None,
) -> None:
    _end(case, user, reason, authentication, rolling_back=False, today=today)


def roll_back_case(
    case: EscalationCase,
    user: Any,
    reason: str,
    *,
    authentication: Authentication,
    today: datetime.date | None = None,
) -> None:
    _end(case, user, reason, authentication, rolling_back=True, today=today)


# The record.


# Who a step taken by no person (a fired window opening a case, adding evidence) is by, as read
# in the timeline: "Opened by the evaluation".
NO_PERSON = "the evaluation"


def _event_row(
    case: EscalationCase,
    kind: str,
    actor: Any,
    note: str,
    *,
    levels: tuple[str, str] = ("", ""),
    authentication: Authentication | None = None,
) -> CaseEvent:
    person = actor if getattr(actor, "is_authenticated", False) else None
    return CaseEvent(
        case=case,
        kind=kind,
        actor=person,
        actor_name=display_name(person) if person else NO_PERSON,
        note=shortened(note, REASON_MAX),
        from_level_key=levels[0],
        to_level_key=levels[1],
        authenticated_via=authentication.via if authentication else "",
        authenticated_at=authentication.at if authentication else None,
    )


def _event(
    case: EscalationCase,
    kind: str,
    actor: Any,
    note: str,
    *,
    levels: tuple[str, str] = ("", ""),
    authentication: Authentication | None = None,
) -> CaseEvent:
    event = _event_row(case, kind, actor, note, levels=levels, authentication=authentication)
    event.save()
    return event


def _audit_entry(
    case: EscalationCase, actor: Any, verb: AuditVerb, what: str, reason: str = ""
) -> tuple[AuditVerb, str, str]:
    who = display_name(actor) if actor else NO_PERSON.capitalize()
    summary = f"{who}: case for {case.ai_system} {case.bound_key or case.trigger_key}: {what}"
    return (verb, one_line(summary + (f": {reason}" if reason else "")), f"cases/{case.public_id}")


def _audit(case: EscalationCase, actor: Any, verb: AuditVerb, what: str, reason: str = "") -> None:
    record_activities(case.engagement, actor, [_audit_entry(case, actor, verb, what, reason)])


def case_url(case: EscalationCase) -> str:
    return settings.SITE_URL + reverse("case_detail", args=[case.engagement.slug, case.public_id])


def _mail_owners(messages: list[tuple[EscalationCase, str, str]]) -> None:
    """Mail each case's owner (the members the case names as its owner) once the step has
    committed, sent by the worker; one query for the members, however many cases."""
    named = [(case, s, b) for case, s, b in messages if case.owner_name.strip()]
    if not named:
        return
    members = Membership.objects.filter(engagement_id=named[0][0].engagement_id).select_related(
        "user"
    )
    addresses: dict[str, list[str]] = {}
    for member in members:
        if member.user.email:
            addresses.setdefault(_normal(display_name(member.user)), []).append(member.user.email)
    mails = [
        Mail(
            one_line(f"{case.engagement.client_organisation}: {subject}"),
            f"{body}\n\n{case_url(case)}\n",
            to,
        )
        for case, subject, body in named
        for to in addresses.get(_normal(case.owner_name), [])
    ]
    if mails:
        transaction.on_commit(lambda: queue_mail(mails), robust=True)


def _mail_owner(case: EscalationCase, subject: str, body: str) -> None:
    _mail_owners([(case, subject, body)])


def cases_by_system(engagement: Engagement) -> dict[str, list[EscalationCase]]:
    """The engagement's cases in play, by AI system, oldest first (one query)."""
    found: dict[str, list[EscalationCase]] = {}
    for case in (
        EscalationCase.objects.active().filter(engagement=engagement).order_by("opened_at", "id")
    ):
        found.setdefault(case.ai_system, []).append(case)
    return found
