import subprocess
from typing import cast

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.db.backends.postgresql.base import DatabaseWrapper as PostgreSQLConnection

from config.database import client_program, connected_libpq_url, libpq_environment


class Command(BaseCommand):
    help = "Write the whole database (every engagement, version and pack) to FILE with pg_dump."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")

    def handle(self, *args: object, file: str, **options: object) -> None:
        command = [
            # DATABASES holds PostgreSQL only; pg_dump must match its server's major version.
            client_program("pg_dump", cast(PostgreSQLConnection, connection).pg_version // 10000),
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            f"--file={file}",
            connected_libpq_url(connection),
        ]
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            env=libpq_environment(connection.settings_dict),
        )
        if result.returncode != 0:
            raise CommandError(f"pg_dump failed: {result.stderr.strip()}")
        self.stdout.write(f"Backed up {connection.settings_dict['NAME']} to {file}")
