"""Production defaults: gunicorn as the container runs it answers the container's healthcheck
with a real ALLOWED_HOSTS and HTTPS; development-only tools refuse production."""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from escalation.signing import development_pair

BASE_DIR = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "a-production-secret-for-the-healthcheck-test-" * 2,
    "ALLOWED_HOSTS": "workshop.example.com",
    "HTTPS": "true",
    "ENV_FILE": "",
}


def production_environment() -> dict[str, str]:
    hidden = {"PYTEST_VERSION", "PYTEST_CURRENT_TEST", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return {k: v for k, v in os.environ.items() if k not in hidden} | PRODUCTION


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def production_server():
    """gunicorn with the container's configuration (config/gunicorn.py: --preload, gthread)."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "config/gunicorn.py"]
        + ["--bind", f"127.0.0.1:{port}", "--workers", "1", "config.wsgi:application"],
        cwd=BASE_DIR,
        env=production_environment(),
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and server.poll() is None:
        try:
            plain_status(port)  # any answer: a worker is up
            break
        except OSError:
            time.sleep(0.2)
    yield port
    os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=30)


def healthcheck(port: int) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "config.healthcheck", str(port)],
        cwd=BASE_DIR,
        env=production_environment(),
        capture_output=True,
        text=True,
        timeout=60,
    )


def plain_status(port: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_the_container_healthcheck_passes_with_real_hosts_and_https(production_server):
    result = healthcheck(production_server)
    assert result.returncode == 0, result.stderr
    # What the former probe asked: refused by the host check, so the app looked dead.
    assert plain_status(production_server) != 200


def test_the_healthcheck_fails_when_nothing_answers():
    assert healthcheck(free_port()).returncode == 1


@override_settings(DEVELOPMENT=False)
def test_load_demo_refuses_to_run_in_production(db):
    with pytest.raises(CommandError, match="development only"):
        call_command("load_demo")


def test_the_development_signing_key_is_readable_by_its_owner_only(tmp_path):
    key_path, _ = development_pair(tmp_path / "signing")
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600


def test_gunicorns_master_compiles_every_template_before_forking_workers():
    from django.template import engines

    from config.gunicorn import warm_templates

    cached_loader = engines["django"].engine.template_loaders[0]
    cached_loader.reset()
    warm_templates()
    compiled = set(cached_loader.get_template_cache)
    assert {"registration/login.html", "workshops/versions/detail.html"} <= compiled
