"""What the database's triggers watch, asked of PostgreSQL itself."""

from django.db import connection


def tables_watched_by(function: str) -> set[str]:
    """The tables on which a row trigger calls the trigger function named `function`."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgrelid::regclass::text FROM pg_trigger WHERE tgfoid = %s::regproc",
            [function],
        )
        return {row[0] for row in cursor.fetchall()}
