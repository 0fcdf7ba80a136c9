"""What makes one row of a framework complete: each rule once, for the consistency checks, the
completion figures and the engagement's progress alike.

"Governed" follows the method's step 4 and its ladder artifact ("approval owner per escalation
level"): a named person who approves, and a cost ceiling. A role alone ("Head of AI") names no one
who can be asked, so it does not govern a level.
"""

from __future__ import annotations

from escalation.models import AISystem, EscalationLevel


def has_approval_owner(level: EscalationLevel) -> bool:
    return bool(level.approval_owner_name.strip())


def is_governed(level: EscalationLevel) -> bool:
    """Step 4 is done for `level`: someone named approves it and its cost has a ceiling."""
    return has_approval_owner(level) and level.cost_ceiling is not None


def has_a_way_in(level: EscalationLevel) -> bool:
    """A trigger or a bound leads to `level` (reads the prefetched bounds)."""
    return bool(level.trigger.strip() or level.bounds.all())


def is_defined(level: EscalationLevel) -> bool:
    """Step 3 is done for `level`: something leads to it, and it says when to enter and leave."""
    return has_a_way_in(level) and bool(
        level.entry_criteria.strip() and level.exit_criteria.strip()
    )


def is_described(system: AISystem) -> bool:
    """The AI system says what it serves, who owns it and what it produces."""
    return bool(system.workflow and system.business_owner and system.output_types)
