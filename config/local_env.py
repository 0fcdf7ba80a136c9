"""The checkout's local `.env`: written once by `make run`, read by the settings.

It holds development settings (DEBUG=true and a generated SECRET_KEY), so `manage.py` commands
work as written in a development checkout. The environment always wins over the file. A key this
module generated is marked as a development key, and production refuses it: a `.env` left in a
checkout never turns a production start into one with a key nobody chose.

    python -m config.local_env write [PATH]
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

DEFAULT_PATH = Path(__file__).resolve().parent.parent / ".env"
DEVELOPMENT_KEY_PREFIX = "development-"


def path() -> Path:
    """`ENV_FILE` if set (an empty value reads no file), else `.env` in the checkout."""
    configured = os.environ.get("ENV_FILE")
    return DEFAULT_PATH if configured is None else Path(configured)


def parse(text: str) -> dict[str, str]:
    """KEY=VALUE lines; blank lines and # comments skipped; one pair of quotes around a value
    dropped. Nothing is expanded or interpolated."""
    values = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = (part.strip() for part in line.removeprefix("export ").split("=", 1))
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key] = value
    return values


def load(env_file: Path) -> None:
    """Set each variable of `env_file` that the environment does not set already."""
    if not env_file.is_file():
        return
    for key, value in parse(env_file.read_text()).items():
        os.environ.setdefault(key, value)


def write_development(env_file: Path) -> bool:
    """Create `env_file` with development settings, readable by its owner only; never overwrite
    one that exists. True if written."""
    content = (
        "# Local development settings, written by `make run`; not for production.\n"
        "# The environment wins over this file. Delete it to get a fresh one.\n"
        "DEBUG=true\n"
        f"SECRET_KEY={DEVELOPMENT_KEY_PREFIX}{secrets.token_urlsafe(40)}\n"
    )
    try:
        # O_EXCL: two `make run` at once write one file; 0o600 from the start: it holds a key.
        descriptor = os.open(env_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(descriptor, "w") as file:
        file.write(content)
    return True


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3) or argv[1] != "write":
        print("usage: python -m config.local_env write [PATH]", file=sys.stderr)
        return 2
    env_file = Path(argv[2]) if len(argv) == 3 else path()
    if write_development(env_file):
        print(f"Wrote {env_file} (DEBUG=true and a generated development SECRET_KEY).")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
