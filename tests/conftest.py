"""The cast: one engagement with a facilitator, an approver, a reviewer and an observer, and an
outsider who facilitates another engagement. Browser fixtures drive Debian's chromium."""

from __future__ import annotations

import os
from typing import Any

import pytest

from tests.factories import make_consultant, make_engagement, make_member, make_user
from workshops.models import Role

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API vs live_server


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
