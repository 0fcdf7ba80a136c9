"""`make load`: 50 concurrent demo users on a realistic mix of pages, against gunicorn.

Each simulated user logs in as one of the demo accounts and browses the demo engagement the way
its role does: mostly the dashboard, the day pages and the framework's steps, some versions and
artifacts. Run through the Makefile, which starts gunicorn and stops it afterwards.
"""

import random
import re

from locust import HttpUser, between, task

DEMO_USERS = ["facilitator", "approver", "reviewer", "observer"]
PASSWORD = "workshop-demo"
SLUG = "demo"


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
