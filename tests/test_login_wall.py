"""Every page but login is behind the login wall; pages send a strict content security policy
and load htmx from our own static files."""

from django.urls import reverse


def test_every_page_but_login_requires_a_login(client, db):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_login_page_is_public_and_sets_a_strict_content_security_policy(client, db):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in policy
    assert "unsafe-inline" not in policy


def test_pages_load_htmx_from_our_own_static_files(client, db):
    html = client.get(reverse("login")).content.decode()
    assert "/static/django_htmx/htmx-2" in html
    assert "//cdn" not in html and "unpkg" not in html
