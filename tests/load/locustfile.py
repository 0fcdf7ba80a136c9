"""`make load`: 50 concurrent demo users on a realistic mix of pages, against gunicorn.

Each simulated user is signed in as one of the demo accounts and browses the demo engagement:
mostly the dashboard, the day pages and the framework's steps, then versions, the diff,
artifacts, the ladder diagram and the audit trail. Any answer other than 2xx counts as an error.
A trivial page (`/healthz`) is in the mix as the floor: at the end the report prints its p99, the
p99 of every request together and their ratio (the target: within 10x), beside locust's table.
Run through the Makefile (`make load`), which starts gunicorn and stops it afterwards.
"""

import atexit
import os
import random

import django
from locust import HttpUser, between, events, task
from locust.env import Environment

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

DEMO_USERS = ["facilitator", "approver", "reviewer", "observer"]
SLUG = "demo"
FLOOR = "floor: /healthz"
# p99 of every request over the floor's p99 that `make load` aims at.
TARGET_RATIO = 10
STEPS = ["systems", "thresholds", "failure-modes", "ladder", "governance", "review-cycle"]


def signed_in_session(username: str) -> str:
    """A real session of the demo user, as Django's login would create it."""
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.contrib.sessions.backends.db import SessionStore

    user = get_user_model().objects.get(username=username)
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key


class WorkshopMember(HttpUser):
    wait_time = between(0.5, 2.0)

    def on_start(self) -> None:
        # Sessions are made directly (see signed_in_session): 50 simultaneous password checks
        # (PBKDF2, ~1 CPU-second each here) would otherwise be most of what a 60 s run measures.
        self.client.cookies.set("sessionid", signed_in_session(random.choice(DEMO_USERS)))

    @task(2)
    def floor(self) -> None:
        self.client.get("/healthz", name=FLOOR)

    @task(3)
    def home(self) -> None:
        self.client.get("/", name="home")

    @task(5)
    def dashboard(self) -> None:
        self.client.get(f"/e/{SLUG}/", name="dashboard")

    @task(5)
    def day(self) -> None:
        self.client.get(f"/e/{SLUG}/days/{random.randint(1, 10)}/", name="day page")

    @task(6)
    def step(self) -> None:
        step = random.choice(STEPS)
        self.client.get(f"/e/{SLUG}/steps/{step}/", name="step page")

    @task(2)
    def checks(self) -> None:
        self.client.get(f"/e/{SLUG}/checks/", name="checks")

    @task(2)
    def versions(self) -> None:
        self.client.get(f"/e/{SLUG}/versions/", name="versions")

    @task(3)
    def version(self) -> None:
        self.client.get(f"/e/{SLUG}/versions/{random.choice([1, 2])}/", name="version page")

    @task(1)
    def compare(self) -> None:
        self.client.get(f"/e/{SLUG}/versions/compare/?a=1&b=draft", name="compare")

    @task(2)
    def artifacts(self) -> None:
        self.client.get(f"/e/{SLUG}/versions/1/artifacts/", name="artifacts")

    @task(1)
    def ladder(self) -> None:
        self.client.get(f"/e/{SLUG}/versions/1/artifacts/ladder.svg", name="ladder svg")

    @task(1)
    def audit(self) -> None:
        self.client.get(f"/e/{SLUG}/audit/", name="audit trail")


@events.quitting.add_listener
def report_at_exit(environment: Environment, **_: object) -> None:
    # Locust prints its tables after this event: the report goes under them.
    atexit.register(report_against_the_floor, environment)


def report_against_the_floor(environment: Environment) -> None:
    """The floor's p99 and every request's p99, in ms, and how far apart they are."""
    stats = environment.stats
    if stats is None or not stats.total.num_requests:
        return
    floor = stats.get(FLOOR, "GET").get_response_time_percentile(0.99)
    overall = stats.total.get_response_time_percentile(0.99)
    ratio = overall / floor if floor else float("inf")
    slowest = sorted(
        stats.entries.values(), key=lambda entry: entry.get_response_time_percentile(0.99)
    )[-3:]
    verdict = "met" if ratio <= TARGET_RATIO else "not met"
    print(
        f"\nfloor ({FLOOR}) p99 {floor:.0f} ms; all requests p99 {overall:.0f} ms, "
        f"{ratio:.1f}x the floor (target {TARGET_RATIO}x: {verdict}); "
        f"{stats.total.num_failures} errors of {stats.total.num_requests} requests"
    )
    print(
        "slowest p99: "
        + ", ".join(
            f"{entry.name} {entry.get_response_time_percentile(0.99):.0f} ms"
            for entry in reversed(slowest)
        )
    )
