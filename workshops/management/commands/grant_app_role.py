"""`manage.py grant_app_role ROLE`: give the application's database role exactly what it needs.

Run by the owner role (the one that runs migrations: compose's `migrate` service runs this right
after `migrate`). The application role owns nothing, so it cannot ALTER a table, disable a
trigger or drop one; it is granted no TRUNCATE anywhere; on the evidence tables it may only read
and add rows. Default privileges
cover tables a later migration creates; rerun the command after each migration so new evidence
tables lose UPDATE and DELETE again.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from psycopg import sql

from escalation.models import FrameworkVersion
from workshops.models import (
    Activity,
    Approval,
    Comment,
    CommentResolution,
    RequiredApprover,
    ReviewEvent,
)
from workshops.models.evidence import LedgerEntry, SignoffRecord

# Read and add, never change or remove: what the append-only triggers guard (migration 0009).
EVIDENCE_MODELS = [
    FrameworkVersion,
    Approval,
    RequiredApprover,
    ReviewEvent,
    Comment,
    CommentResolution,
    Activity,
    SignoffRecord,
    LedgerEntry,
]


def evidence_tables() -> list[str]:
    return [model._meta.db_table for model in EVIDENCE_MODELS]


class Command(BaseCommand):
    help = "Grant the application's database role least privilege (run as the owner role)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("role", help="The application's login role (it must exist).")

    def handle(self, *args: object, role: str, **options: object) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", [role])
            found = cursor.fetchone()
            if found is None:
                raise CommandError(f"No database role {role!r}: create it first (see README).")
            if any(found):
                raise CommandError(
                    f"{role} is a superuser or bypasses row security: the application role "
                    "must be an ordinary login role."
                )
            if role == connection.settings_dict["USER"]:
                raise CommandError(f"{role} runs the migrations: grant another role.")
        app = sql.Identifier(role)
        statements = [
            sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
                sql.Identifier(connection.settings_dict["NAME"]), app
            ),
            sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(app),
            # Start from nothing, so a rerun also takes back what was granted before.
            sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {}").format(app),
            sql.SQL(
                "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}"
            ).format(app),
            sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(app),
            sql.SQL(
                "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
                "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {}"
            ).format(app),
            sql.SQL(
                "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {}"
            ).format(app),
        ]
        for table in evidence_tables():
            statements.append(
                sql.SQL("REVOKE UPDATE, DELETE ON {} FROM {}").format(sql.Identifier(table), app)
            )
        with transaction.atomic(), connection.cursor() as cursor:  # all the grants or none
            for statement in statements:
                cursor.execute(statement)
        self.stdout.write(
            f"{role} may read and write the application's tables; on the evidence tables "
            f"({', '.join(evidence_tables())}) only read and add rows. It owns nothing, so it "
            "cannot alter tables, disable triggers or truncate."
        )
