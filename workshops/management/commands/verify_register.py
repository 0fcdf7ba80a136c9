"""`manage.py verify_register SLUG`: check an engagement's whole evidence register.

The ledger's hash chain entry by entry (each entry against the one before it and against the row it
records), every frozen version's document against its hash, every sign-off record against its
hash, and every stored signed pack (its signature, and the hashes it prints against the ledger's).
Exits non-zero naming the first broken entry. `--pack FILE` also checks a signed pack someone kept
(the client's copy) against the register.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from workshops.ledger import verify_register
from workshops.models import Engagement
from workshops.models.evidence import LedgerEntry


class Command(BaseCommand):
    help = (
        "Verify an engagement's evidence register: the ledger's hash chain, every version's "
        "hash, every sign-off record and every signed pack; fail naming the first broken entry."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="The engagement's slug, as in /e/<slug>/.")
        parser.add_argument(
            "--pack",
            dest="kept_pack",
            help="A signed pack PDF someone kept: check it names a sign-off this register holds.",
        )

    def handle(
        self, *args: object, slug: str, kept_pack: str | None = None, **options: object
    ) -> None:
        engagement = Engagement.objects.filter(slug=slug).select_related("framework").first()
        if engagement is None:
            raise CommandError(f"No engagement {slug!r}.")
        problems = []
        pdf = Path(kept_pack).read_bytes() if kept_pack else None
        for group, finding in verify_register(engagement, pdf):
            verdict = f"BROKEN: {finding.problem}" if finding.problem else "ok"
            self.stdout.write(f"{group:9} {finding.subject:42} {verdict}  {finding.detail}")
            if finding.problem:
                problems.append(f"{finding.subject}: {finding.problem}")
        if problems:
            raise CommandError(
                f"{len(problems)} problem(s) in the register of {slug}; first broken: {problems[0]}"
            )
        head = LedgerEntry.objects.head(engagement)
        self.stdout.write(f"All versions of {slug} match their frozen hashes.")
        self.stdout.write(
            f"The ledger of {slug} is whole: head {head.entry_hash if head else '(empty)'}"
        )
