"""The production defaults the compose file, the Dockerfile and the settings serve (Docker cannot
run here: the files are read as deployed): HTTPS behind the proxy by default, the web port bound
to the proxy's host only, X-Forwarded-For trusted for one proxy, HSTS preload opt-in, and gunicorn
as the load test runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
COMPOSE = (BASE_DIR / "docker-compose.yml").read_text()


def production_setting(name: str, **environment: str) -> str:
    """A setting as production settings read it from `environment`."""
    hidden = {"PYTEST_VERSION", "PYTEST_CURRENT_TEST", "DJANGO_SETTINGS_MODULE"}
    env = {k: v for k, v in os.environ.items() if k not in hidden}
    env |= {"DEBUG": "false", "SECRET_KEY": "s" * 50, "ENV_FILE": "", **environment}
    code = f"from config import settings; print(settings.{name})"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=BASE_DIR, env=env, capture_output=True, text=True
    )
    return result.stdout.strip()


def test_compose_serves_https_behind_one_trusted_proxy_by_default():
    assert "HTTPS: ${HTTPS:-true}" in COMPOSE
    assert "TRUSTED_PROXY_COUNT: ${TRUSTED_PROXY_COUNT:-1}" in COMPOSE


def test_compose_binds_the_web_port_to_the_proxys_host_only():
    assert '- "127.0.0.1:${WEB_PORT:-8000}:8000"' in COMPOSE


def test_hsts_preload_is_opt_in():
    assert "HSTS_PRELOAD: ${HSTS_PRELOAD:-false}" in COMPOSE
    assert production_setting("SECURE_HSTS_PRELOAD", HTTPS="true") == "False"
    assert production_setting("SECURE_HSTS_PRELOAD", HTTPS="true", HSTS_PRELOAD="true") == "True"


def test_forwarded_proto_is_trusted_only_with_https_behind_the_proxy():
    assert production_setting("SECURE_PROXY_SSL_HEADER", HTTPS="false") == "None"
    trusted = production_setting("SECURE_PROXY_SSL_HEADER", HTTPS="true")
    assert trusted == "('HTTP_X_FORWARDED_PROTO', 'https')"


def test_the_container_and_the_load_test_run_gunicorn_with_one_configuration():
    dockerfile = (BASE_DIR / "Dockerfile").read_text()
    makefile = (BASE_DIR / "Makefile").read_text()
    assert 'CMD ["gunicorn", "--config", "config/gunicorn.py"' in dockerfile
    assert "gunicorn --config config/gunicorn.py config.wsgi:application" in makefile
    gunicorn = (BASE_DIR / "config" / "gunicorn.py").read_text()
    assert 'worker_class = "gthread"' in gunicorn and "preload_app = True" in gunicorn


def test_compose_runs_two_pack_workers_unless_told_otherwise():
    # tests/test_pack_workers_parallel.py shows two workers rendering two packs at once.
    assert "replicas: ${PACK_WORKERS:-2}" in COMPOSE
