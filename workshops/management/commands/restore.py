import subprocess
from typing import cast

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.db.backends.postgresql.base import DatabaseWrapper as PostgreSQLConnection

from config.database import client_program, connected_libpq_url, libpq_environment

# Far more content writes than an installation makes between a backup and its restore.
REVISION_GAP = 10**12


# The sequences the revisions under which renderings are cached are drawn from.
REVISION_SEQUENCES = ("escalation_framework_revision_seq", "workshops_review_revision_seq")


def skip_revisions_used_since_the_backup() -> None:
    """The working drafts' renderings are cached under their content revision, and what a version
    page reads of its review under the engagement's review revision (escalation.caching), each
    drawn from a sequence. The restore rewinds the sequences to the backup's values, and the
    revisions given out since then name other content in every cache (Redis, each process's
    memory): the next revisions jump past all of them."""
    with connection.cursor() as cursor:
        for sequence in REVISION_SEQUENCES:
            cursor.execute(
                f"SELECT setval('{sequence}', (SELECT last_value FROM {sequence}) + %s)",
                [REVISION_GAP],
            )


class Command(BaseCommand):
    help = "Replace the database's content with a backup written by `manage.py backup FILE`."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")

    def handle(self, *args: object, file: str, **options: object) -> None:
        url = connected_libpq_url(connection)
        program = client_program(
            "pg_restore", cast(PostgreSQLConnection, connection).pg_version // 10000
        )
        # Our own open connection would hold locks that DROP TABLE waits for.
        connection.close()
        command = [
            program,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={url}",
            file,
        ]
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            env=libpq_environment(connection.settings_dict),
        )
        if result.returncode != 0:
            raise CommandError(f"pg_restore failed: {result.stderr.strip()}")
        skip_revisions_used_since_the_backup()
        self.stdout.write(f"Restored {connection.settings_dict['NAME']} from {file}")
