"""Configuration: bad environment values and a missing dependency stop with one line naming the fix."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from config.settings import env_bool

ROOT = Path(__file__).resolve().parent.parent


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


def test_mistyped_boolean_stops_with_one_line_naming_the_variable():
    result = _manage("check", DEBUG="true", HTTPS="ture")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "HTTPS='ture' is not a boolean: use true/false (or 1/0, yes/no, on/off)."
    )


def test_check_command_reports_an_unreachable_database_naming_the_fix():
    result = _manage("check", DEBUG="true", DATABASE_URL="postgres://nobody@127.0.0.1:9/none")
    assert result.returncode == 1
    assert "(config.E002) Cannot reach PostgreSQL" in result.stderr
    assert "Fix DATABASE_URL" in result.stderr


def test_check_command_reports_a_missing_dot_binary_naming_the_fix():
    python_dir = str(Path(sys.executable).parent)
    result = _manage("check", DEBUG="true", PATH=python_dir)
    assert result.returncode == 1
    assert "(config.E001) graphviz's `dot` is not installed" in result.stderr


def test_every_environment_variable_read_by_settings_is_in_the_readme_table():
    settings_source = (ROOT / "config" / "settings.py").read_text()
    read = set(re.findall(r"env_(?:str|bool|int|list)\(\s*\"([A-Z_]+)\"", settings_source))
    table = "\n".join(
        line for line in (ROOT / "README.md").read_text().splitlines() if line.startswith("| `")
    )
    documented = set(re.findall(r"`([A-Z_]+)`", table))
    assert read, "no env_* calls found: the pattern no longer matches config/settings.py"
    assert read - documented == set()


@pytest.mark.parametrize(
    ("value", "expected"),
    [("true", True), ("ON", True), ("1", True), ("yes", True), ("false", False), ("0", False)],
)
def test_boolean_variables_accept_the_usual_spellings(monkeypatch, value, expected):
    monkeypatch.setenv("EMAIL_USE_TLS", value)
    assert env_bool("EMAIL_USE_TLS") is expected


def test_an_unset_boolean_variable_takes_its_default(monkeypatch):
    monkeypatch.delenv("EMAIL_USE_TLS", raising=False)
    assert env_bool("EMAIL_USE_TLS", default=True) is True


def test_the_cache_is_the_database_unless_redis_url_is_set():
    show = "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])"
    database = _manage("shell", "-c", show, DEBUG="true")
    redis = _manage("shell", "-c", show, DEBUG="true", REDIS_URL="redis://cache:6379/0")
    assert database.stdout.strip().endswith("db.DatabaseCache")
    assert redis.stdout.strip().endswith("redis.RedisCache")
