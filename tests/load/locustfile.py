"""`make load`: 50 concurrent demo users on a realistic mix of pages, against gunicorn.

Each simulated user logs in as one of the demo accounts and browses the demo engagement: mostly the
dashboard, the day pages and the framework's steps, then versions, the diff, artifacts, the ladder
diagram and the audit trail. Any answer other than 2xx counts as an error. Run through the Makefile, which starts gunicorn and stops it afterwards.
"""

import random
import re

from locust import HttpUser, between, task

DEMO_USERS = ["facilitator", "approver", "reviewer", "observer"]
PASSWORD = "workshop-demo"
SLUG = "demo"
STEPS = ["systems", "thresholds", "failure-modes", "ladder", "governance", "review-cycle"]


class WorkshopMember(HttpUser):
    wait_time = between(0.5, 2.0)

    def on_start(self) -> None:
        login_page = self.client.get("/accounts/login/", name="login page")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page.text)
        self.client.post(
            "/accounts/login/",
            {
                "username": random.choice(DEMO_USERS),
                "password": PASSWORD,
                "csrfmiddlewaretoken": token.group(1) if token else "",
            },
            headers={"Referer": f"{self.host}/accounts/login/"},
            name="log in",
        )

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
