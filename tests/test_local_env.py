"""The local `.env` that `make run` writes: development settings for `manage.py` in a checkout,
under the environment, and never a key production accepts. Each case starts a fresh process, as a
user's shell does."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from config import local_env

BASE_DIR = Path(__file__).resolve().parent.parent
PRINT_DEBUG = "from django.conf import settings; print(settings.DEBUG)"


def manage(*args: str, env_file: Path | str, **environment: str) -> subprocess.CompletedProcess:
    """`python manage.py ...` from a shell without DEBUG or SECRET_KEY (and not under pytest)."""
    hidden = {"DEBUG", "SECRET_KEY", "PYTEST_VERSION", "PYTEST_CURRENT_TEST"}
    shell = {key: value for key, value in os.environ.items() if key not in hidden}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=shell | {"ENV_FILE": str(env_file)} | environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def development_env(tmp_path: Path) -> Path:
    env_file = tmp_path / ".env"
    local_env.write_development(env_file)
    return env_file


def last_line(result: subprocess.CompletedProcess) -> str:
    return result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""


def test_readme_commands_work_with_the_local_env_alone(tmp_path):
    env_file = development_env(tmp_path)
    help_text = manage("export_pack", "--help", env_file=env_file)
    debug = manage("shell", "-c", PRINT_DEBUG, env_file=env_file)
    assert help_text.returncode == 0, help_text.stderr
    assert last_line(debug) == "True"


def test_the_environment_wins_over_the_local_env(tmp_path):
    env_file = development_env(tmp_path)
    result = manage(
        "shell", "-c", PRINT_DEBUG, env_file=env_file, DEBUG="false", SECRET_KEY="a-real-key-" * 5
    )
    assert last_line(result) == "False", result.stderr


def test_production_refuses_the_generated_development_key(tmp_path):
    result = manage("shell", "-c", PRINT_DEBUG, env_file=development_env(tmp_path), DEBUG="false")
    assert result.returncode == 1
    assert "SECRET_KEY is a development key" in result.stderr


def test_production_refuses_to_start_without_a_key():
    result = manage("shell", "-c", PRINT_DEBUG, env_file="")
    assert result.returncode == 1
    assert "SECRET_KEY is not set" in result.stderr


def test_the_local_env_is_written_once_and_readable_by_its_owner_only(tmp_path):
    env_file = development_env(tmp_path)
    first = env_file.read_text()
    assert local_env.write_development(env_file) is False
    assert env_file.read_text() == first
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600


def test_the_local_env_parser_reads_plain_assignments_only():
    text = "# a comment\n\nDEBUG=true\nexport NAME = 'quoted value'\nEMPTY=\nnot an assignment\n"
    assert local_env.parse(text) == {"DEBUG": "true", "NAME": "quoted value", "EMPTY": ""}
