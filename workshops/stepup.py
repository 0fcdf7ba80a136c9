"""Step-up authentication before a decision that signs: approving a version or requesting changes
needs the approver's password confirmed now, or a sign-in within the last few minutes. The session
remembers when its person last proved who they are; the decision records how and when."""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

from django.contrib.auth import authenticate
from django.db import models
from django.http import HttpRequest
from django.utils import timezone

# How long a sign-in (or a confirmed password) vouches for the person at the keyboard.
RECENT = datetime.timedelta(minutes=5)
SESSION_KEY = "workshops_authenticated_at"


class AuthenticatedVia(models.TextChoices):
    PASSWORD = "password", "Confirmed their password"
    RECENT_LOGIN = "recent-login", "Signed in within 5 minutes"
    # Data written by load_demo, the bench or a test, never by a person through the app.
    SEEDED = "seeded", "Seeded data (demo, bench or test)"
    # Decisions recorded before the app asked for step-up.
    UNRECORDED = "unrecorded", "Not recorded (before step-up)"


@dataclasses.dataclass(frozen=True)
class Authentication:
    """How, and when, the person making a decision last proved who they are."""

    via: str
    at: datetime.datetime

    @classmethod
    def seeded(cls) -> Authentication:
        return cls(AuthenticatedVia.SEEDED, timezone.now())


def remember_sign_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """On user_logged_in: note the time in the session, which step-up reads later."""
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_KEY] = timezone.now().isoformat()


def recent_authentication(request: HttpRequest) -> Authentication | None:
    """The session's sign-in (or last confirmed password), if it is recent enough to vouch."""
    moment = request.session.get(SESSION_KEY)
    if not moment:
        return None
    at = datetime.datetime.fromisoformat(moment)
    if timezone.now() - at > RECENT:
        return None
    return Authentication(AuthenticatedVia.RECENT_LOGIN, at)


def confirm_password(request: HttpRequest, password: str) -> Authentication | None:
    """Check the signed-in person's password. Goes through authenticate() so that failures are
    counted and throttled like failed sign-ins; a success renews the session's window."""
    user: Any = request.user
    confirmed = authenticate(request, username=user.get_username(), password=password)
    if confirmed is None or confirmed.pk != user.pk:
        return None
    now = timezone.now()
    request.session[SESSION_KEY] = now.isoformat()
    return Authentication(AuthenticatedVia.PASSWORD, now)
