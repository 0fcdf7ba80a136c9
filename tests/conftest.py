"""The cast: one engagement with a facilitator, an approver, a reviewer and an observer, and an
outsider who facilitates another engagement. Browser fixtures drive Debian's chromium."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from django.db.backends.postgresql.operations import DatabaseOperations

from escalation.caching import LOCAL
from tests.factories import make_consultant, make_engagement, make_member, make_user
from workshops.models import Role

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API vs live_server


@pytest.fixture(autouse=True, scope="session")
def flush_may_truncate_evidence() -> Iterator[None]:
    """Transactional tests end with Django's flush: one TRUNCATE of every table. The evidence
    tables refuse TRUNCATE unless the session allows it (escalation migration 0005); the flush,
    and only the flush, does, for its own transaction."""
    flush = DatabaseOperations.execute_sql_flush

    def execute_sql_flush(operations: DatabaseOperations, sql_list: list[str]) -> None:
        flush(operations, ["SET LOCAL escalation.allow_truncate = 'on'", *sql_list])

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DatabaseOperations, "execute_sql_flush", execute_sql_flush)
        yield


@pytest.fixture(autouse=True)
def forget_cached_content() -> None:
    """Each test starts with an empty process tier of escalation.caching, as its database (and
    so the cache table) starts empty: ids and revisions may repeat from one test to another."""
    LOCAL.clear()


@pytest.fixture
def engagement(db: Any) -> Any:
    return make_engagement(slug="acme", client_organisation="Acme Insurance")


@pytest.fixture
def facilitator(engagement: Any) -> Any:
    return make_member(engagement, Role.FACILITATOR, make_consultant(make_user("fay")))


@pytest.fixture
def approver(engagement: Any) -> Any:
    return make_member(engagement, Role.APPROVER, make_user("abe"))


@pytest.fixture
def reviewer(engagement: Any) -> Any:
    return make_member(engagement, Role.REVIEWER, make_user("rae"))


@pytest.fixture
def observer(engagement: Any) -> Any:
    return make_member(engagement, Role.OBSERVER, make_user("oli"))


@pytest.fixture
def outsider(db: Any) -> Any:
    other = make_engagement(slug="elsewhere", client_organisation="Elsewhere Ltd")
    return make_member(other, Role.FACILITATOR, make_consultant(make_user("otto")))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture
def demo(engagement: Any, facilitator: Any, approver: Any) -> dict[str, Any]:
    """The demo framework signed off, its retrieval owner (Priya Natarajan) an approver."""
    from tests.live_demo import sign_off_demo

    return sign_off_demo(engagement, approver)
