"""A lost database gives a clear 503 page, and the app recovers when it returns."""

from contextlib import contextmanager

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse


@contextmanager
def database_unreachable():
    """Point the connection at a server that does not exist, then put the real one back."""
    original = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict["HOST"] = "/nonexistent-socket-dir"
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.update(original)


@pytest.mark.django_db(transaction=True)
def test_lost_database_gives_a_clear_error_page_not_a_traceback(facilitator):
    client = Client(raise_request_exception=False)
    client.force_login(facilitator)
    with database_unreachable():
        response = client.get(reverse("home"))
    assert response.status_code == 503
    assert "database is not answering" in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_app_recovers_when_the_database_returns(facilitator):
    client = Client(raise_request_exception=False)
    client.force_login(facilitator)
    with database_unreachable():
        assert client.get(reverse("home")).status_code == 503
    assert client.get(reverse("home")).status_code == 200
