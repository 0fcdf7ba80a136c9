"""How a person is named on every page, mail, PDF and audit line: one rule, so a name reads the
same everywhere."""

from __future__ import annotations

from typing import Any

ABSENT = "Someone"


def display_name(user: Any, absent: str = ABSENT) -> str:
    """The person's full name, else their username; `absent` when there is no one (a deleted
    account, an automatic action)."""
    if not user:
        return absent
    return name_from(user.first_name, user.last_name, user.get_username())


def name_from(first_name: str, last_name: str, username: str) -> str:
    """`display_name`'s rule for a person read as columns rather than as a user instance: the
    full name (as Django's `get_full_name` joins it), else the username."""
    return f"{first_name} {last_name}".strip() or username
