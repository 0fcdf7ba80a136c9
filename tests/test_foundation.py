"""The foundation: settings, the login wall, the demo and the bad-configuration messages."""

import os
import subprocess
import sys
from pathlib import Path

from django.urls import reverse

from workshops.demo import DEMO_PASSWORD, load_demo
from workshops.models import Engagement, Membership

ROOT = Path(__file__).resolve().parent.parent


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


def test_demo_load_is_idempotent(db):
    load_demo()
    counts = (Engagement.objects.count(), Membership.objects.count())
    load_demo()
    assert (Engagement.objects.count(), Membership.objects.count()) == counts


def test_demo_outsider_has_no_part_in_the_demo(db, client):
    load_demo()
    client.login(username="outsider", password=DEMO_PASSWORD)
    assert client.get(reverse("dashboard", args=["demo"])).status_code == 404
    assert client.get(reverse("dashboard", args=["pilot"])).status_code == 200


def test_demo_facilitator_reaches_the_demo_engagement(db, client):
    load_demo()
    client.login(username="facilitator", password=DEMO_PASSWORD)
    assert client.get(reverse("dashboard", args=["demo"])).status_code == 200


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    # A child process as a user would start it: not under pytest, not in the browser tests' mode.
    hidden = {"PYTEST_VERSION", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    environment = {key: value for key, value in os.environ.items() if key not in hidden}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_missing_secret_key_in_production_stops_with_one_line():
    result = _manage("check", DEBUG="false", SECRET_KEY="")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "SECRET_KEY is not set: export SECRET_KEY=<a long random string> (or DEBUG=true)."
    )


def test_unreachable_database_stops_with_one_line_naming_the_fix():
    result = _manage("migrate", DEBUG="true", DATABASE_URL="postgres://nobody@127.0.0.1:9/none")
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Fix DATABASE_URL" in result.stderr


def test_missing_dot_binary_stops_with_one_line_naming_the_fix(tmp_path):
    python_dir = str(Path(sys.executable).parent)
    result = _manage("migrate", DEBUG="true", PATH=python_dir)
    assert result.returncode == 1
    assert "make system-packages" in result.stderr.strip()


def test_deploy_check_is_clean_with_production_variables():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="false",
        SECRET_KEY="x" * 64 + "-production-secret-value-for-the-check",
        ALLOWED_HOSTS="workshop.example.com",
        HTTPS="true",
    )
    assert result.returncode == 0, result.stdout + result.stderr
