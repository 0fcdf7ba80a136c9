"""Login throttling by address too, against password spraying (django-axes' handler, extended).

Axes locks a username at one address (`AXES_LOCKOUT_PARAMETERS`: five wrong passwords for one
username from one address). A sprayer tries one password over many usernames, never five for
one. This handler also locks an *address* once it has failed `LOGIN_FAILURES_PER_ADDRESS` times
within the cool-off, whatever the usernames: above what an office behind one address mistypes,
far below what spraying needs. It locks only that address, never a username everywhere: the
people a sprayer named still log in from their own addresses.

Axes cannot say this in settings: it has one failure limit for every lockout combination (an
address-only lock at five would lock a shared office out), and a success resets the attempts of
every combination, so a sprayer logging in to an account of their own would wipe the count. Here
the count is of axes' attempt rows from the address, which a success resets only for its own
username.
"""

from __future__ import annotations

from typing import Any

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest


class AddressThrottlingHandler(AxesDatabaseHandler):
    def get_failures(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        """The failures axes weighs against its limit: an address over its own limit counts as
        at axes' limit, so axes locks it (refusing even a right password) and says why."""
        failures: int = super().get_failures(request, credentials)
        if address_failures(request) >= settings.LOGIN_FAILURES_PER_ADDRESS:
            return max(failures, get_failure_limit(request, credentials))
        return failures


def address_failures(request: HttpRequest) -> int:
    """Failed logins from the request's client address within the cool-off, any usernames."""
    attempts = AccessAttempt.objects.filter(
        ip_address=request.axes_ip_address,  # type: ignore[attr-defined]
        attempt_time__gte=get_cool_off_threshold(request),
    )
    return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
