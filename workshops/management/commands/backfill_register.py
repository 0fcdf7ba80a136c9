"""`manage.py backfill_register [SLUG ...]`: bring into the evidence register what was frozen,
approved and signed off before the register existed.

Migration 0008 created the register empty: a database with sign-offs from before it holds frozen
versions and approvals no ledger entry vouches for, and signed-off reviews without a sign-off
record, so `verify_register` fails on them. This command chains them in after whatever the register
holds and writes each missing sign-off record (marked as written later), once: a second run adds
nothing. A command, not a data migration: the record is written by the same code as every live
sign-off (workshops.packs.record_signoff), which a migration's historical models cannot run, and
the operator sees, engagement by engagement, what was added before running `verify_register`.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from workshops.ledger import backfill_register
from workshops.models import Engagement


class Command(BaseCommand):
    help = (
        "Chain into each engagement's evidence register the versions, approvals and sign-offs "
        "made before the register existed (all engagements, or those named)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slugs", nargs="*", help="Engagement slugs; default: every one.")

    def handle(self, *args: object, slugs: list[str], **options: object) -> None:
        engagements = Engagement.objects.select_related("framework").order_by("slug")
        if slugs:
            engagements = engagements.filter(slug__in=slugs)
            unknown = sorted(set(slugs) - {e.slug for e in engagements})
            if unknown:
                raise CommandError(f"No engagement {', '.join(map(repr, unknown))}.")
        for engagement in engagements:
            added = backfill_register(engagement)
            for line in added:
                self.stdout.write(f"{engagement.slug}: added {line}")
            if not added:
                self.stdout.write(f"{engagement.slug}: the register holds everything already")
