from django.core.management.base import BaseCommand, CommandError, CommandParser

from escalation.models import FrameworkVersion
from escalation.versions import stored_hash_matches
from workshops.models import Engagement


class Command(BaseCommand):
    help = "Recompute every frozen version's SHA-256 from its stored document; fail on a mismatch."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="The engagement's slug, as in /e/<slug>/.")

    def handle(self, *args: object, slug: str, **options: object) -> None:
        engagement = Engagement.objects.filter(slug=slug).select_related("framework").first()
        if engagement is None:
            raise CommandError(f"No engagement {slug!r}.")
        versions = FrameworkVersion.objects.filter(framework=engagement.framework).order_by(
            "number"
        )
        mismatches = []
        for version in versions.iterator(chunk_size=50):
            if stored_hash_matches(version):
                self.stdout.write(f"{version.label}  ok        {version.sha256}")
            else:
                mismatches.append(version.label)
                self.stdout.write(f"{version.label}  MISMATCH  stored {version.sha256}")
        if mismatches:
            raise CommandError(
                f"{len(mismatches)} version(s) of {slug} no longer match their hash: "
                + ", ".join(mismatches)
            )
        self.stdout.write(f"All versions of {slug} match their frozen hashes.")
