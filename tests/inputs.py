"""What the property tests over forms and query strings share: hostile strategies, a snapshot of
everything a request could change, and one example's changes rolled back before the next.

Hypothesis runs many examples inside one pytest test (one database transaction): each example runs
in a savepoint that is rolled back, so the fixtures are built once and every example starts from
the same rows. That is why the function-scoped-fixture health check is suppressed, and only here.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import transaction
from django.http import QueryDict
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from escalation.document import build_document
from escalation.models import Framework

# Modest budgets: the whole set of input files must run in about a minute on two busy cores.
# INPUT_EXAMPLES=500 hunts longer (e.g. before a release).
EXAMPLES = int(os.environ.get("INPUT_EXAMPLES", "25"))
few_examples = settings(
    max_examples=EXAMPLES,
    deadline=None,  # a request renders a page: seconds on a busy machine are not a bug here
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# Text a browser, a script or an attacker might send. The test client encodes form data as
# UTF-8, so lone surrogates (which no HTTP body can carry) are left out; NUL is kept on purpose,
# since PostgreSQL refuses it in text columns.
hostile_text = st.one_of(
    st.text(st.characters(exclude_categories=["Cs"]), max_size=40),
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "a\x00b",
            "-1",
            "0",
            "1e400",
            "9" * 30,
            "-9" * 20,
            "NaN",
            "2026-02-30",
            "99999-01-01",
            "<script>alert(1)</script>",
            "' OR 1=1 --",
            "../../etc/passwd",
            "%00",
            "x" * 3000,
            "\u202e\ufeff",
            "draft",
            "facilitator",
            # Control characters (C0, DEL, C1), which every field refuses but new lines and
            # tabs in long text; the characters DOT, CSV, mail headers and iCalendar escape.
            "\x01",
            "Level\x1fname",
            "a\x7fb",
            "next\x85line",
            "\x9b31m",
            "Acme\\",
            '\\"',
            'say "hi"',
            "O'Brien; a, b",
            "two\nlines",
            "two\r\nlines",
            "tab\there",
            # Lengths at and past the columns' limits (names 120-200, slugs 60, keys 80).
            "x" * 60,
            "x" * 120,
            "x" * 121,
            "x" * 150,
            "x" * 200,
            "x" * 201,
            # Dates at and past what the plan and the renderers handle (2000 to 2100).
            "9999-12-27",
            "9999-12-31",
            "0001-01-01",
            "1999-12-31",
            "2101-01-01",
        ]
    ),
)


# A form's data: each field missing, or one value, or several values (a repeated field).
def form_data(fields: list[str], **known: st.SearchStrategy[str]) -> st.SearchStrategy[dict]:
    """Data for a form with these fields; `known` adds plausible values to the hostile ones."""
    # Half the time a field gets a plausible value, so whole forms are sometimes valid too.
    per_field = {
        name: st.one_of(
            known.get(name, hostile_text),
            st.one_of(st.none(), hostile_text, st.lists(hostile_text, min_size=2, max_size=3)),
        )
        for name in fields
    }
    return st.fixed_dictionaries(per_field).map(
        lambda data: {name: value for name, value in data.items() if value is not None}
    )


@contextmanager
def rolled_back() -> Iterator[None]:
    """Run one example in a savepoint and undo whatever it wrote."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def database_state() -> dict[str, Any]:
    """Every row of the apps a form could change, plus each framework as its canonical document
    (so an edit to any step item shows, in the shape users see)."""
    models = [
        *apps.get_app_config("workshops").get_models(),
        *apps.get_app_config("escalation").get_models(),
        get_user_model(),
    ]
    state: dict[str, Any] = {
        model._meta.label: list(model.objects.order_by("pk").values()) for model in models
    }
    state["documents"] = [build_document(f) for f in Framework.objects.order_by("pk")]
    return state


def as_query_dict(data: dict[str, Any]) -> QueryDict:
    """Form data as a view sees it (repeated fields as lists), to ask the form directly."""
    query = QueryDict(mutable=True)
    for name, value in data.items():
        query.setlist(name, value if isinstance(value, list) else [value])
    return query


def server_did_not_fail(response: Any) -> None:
    assert response.status_code < 500, response.content[:2000]
