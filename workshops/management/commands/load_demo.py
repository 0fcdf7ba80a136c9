from django.core.management.base import BaseCommand

from workshops.demo import DEMO_PASSWORD, load_demo


class Command(BaseCommand):
    help = "Load the demo engagement and its demo accounts (idempotent)."

    def handle(self, *args: object, **options: object) -> None:
        people = load_demo()
        self.stdout.write(f"Demo logins (password: {DEMO_PASSWORD}):")
        for username, role in people:
            self.stdout.write(f"  {username:<12} {role}")
