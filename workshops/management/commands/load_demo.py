from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from workshops.demo import DEMO_PASSWORD, load_demo


class Command(BaseCommand):
    help = "Load the demo engagement and its demo accounts (idempotent)."

    def handle(self, *args: object, **options: object) -> None:
        # Demo accounts share one published password: never on a real site.
        if not settings.DEVELOPMENT:
            raise CommandError(
                "load_demo creates accounts with a published password and runs in development "
                "only (DEBUG=true); this is a production configuration."
            )
        people = load_demo()
        self.stdout.write(f"Demo logins (password: {DEMO_PASSWORD}):")
        for username, role in people:
            self.stdout.write(f"  {username:<12} {role}")
