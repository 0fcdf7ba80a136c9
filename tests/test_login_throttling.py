"""Login throttling (django-axes) locks a username at one client address, the real one even
behind the TLS proxy: a guesser elsewhere cannot lock a person out everywhere. One address
spraying a password over many usernames is locked too, that address only."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import reverse

from tests.factories import make_user

PROXY = "172.18.0.2"  # the TLS proxy on the compose network: every request's REMOTE_ADDR
HOME, ELSEWHERE = "81.2.69.160", "81.2.69.161"
RIGHT, WRONG = "pass-word-1", "wrong"

pytestmark = pytest.mark.usefixtures("facilitator")  # "fay", password pass-word-1


def log_in(password, username="fay", **address):
    return Client().post(reverse("login"), {"username": username, "password": password}, **address)


def spray(usernames, **address):
    """One password tried once for each username, as a sprayer does."""
    for username in usernames:
        log_in("Winter2026!", username, **address)


MANY = [f"person{n}" for n in range(settings.LOGIN_FAILURES_PER_ADDRESS)]
BEHIND_THE_PROXY = {"REMOTE_ADDR": PROXY}


def five_bad_passwords(**address):
    for _ in range(5):
        log_in(WRONG, **address)


@override_settings(AXES_ENABLED=True, TRUSTED_PROXY_COUNT=0)
def test_five_bad_passwords_lock_the_username_at_that_address_only():
    five_bad_passwords(REMOTE_ADDR=HOME)
    assert log_in(RIGHT, REMOTE_ADDR=HOME).status_code == 429
    assert log_in(RIGHT, REMOTE_ADDR=ELSEWHERE).status_code == 302


@override_settings(AXES_ENABLED=True, TRUSTED_PROXY_COUNT=0)
def test_without_a_trusted_proxy_a_forwarded_header_changes_nothing():
    five_bad_passwords(REMOTE_ADDR=HOME, HTTP_X_FORWARDED_FOR=ELSEWHERE)
    assert log_in(RIGHT, REMOTE_ADDR=HOME).status_code == 429


@override_settings(AXES_ENABLED=True, TRUSTED_PROXY_COUNT=1)
def test_behind_the_proxy_the_forwarded_address_decides():
    five_bad_passwords(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=HOME)
    assert log_in(RIGHT, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=HOME).status_code == 429
    assert log_in(RIGHT, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=ELSEWHERE).status_code == 302


@override_settings(AXES_ENABLED=True, TRUSTED_PROXY_COUNT=1)
def test_behind_the_proxy_addresses_a_client_prepends_are_ignored():
    # The proxy appends the address it saw; whatever the client wrote comes before it.
    for forged in ["1.1.1.1", "1.1.1.2", "1.1.1.3", "1.1.1.4", "1.1.1.5"]:
        log_in(WRONG, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"{forged}, {HOME}")
    assert log_in(RIGHT, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=HOME).status_code == 429


@override_settings(AXES_ENABLED=True, TRUSTED_PROXY_COUNT=0)
def test_the_lock_message_says_why_even_with_the_right_password():
    five_bad_passwords(REMOTE_ADDR=HOME)
    response = log_in(RIGHT, REMOTE_ADDR=HOME)
    assert "Too many failed log-in attempts" in response.content.decode()


@override_settings(AXES_ENABLED=True, TRUSTED_PROXY_COUNT=0)
def test_a_correct_login_after_one_failure_still_works():
    log_in(WRONG, REMOTE_ADDR=HOME)
    assert log_in(RIGHT, REMOTE_ADDR=HOME).status_code == 302


# Password spraying: one address, one password, many usernames


@override_settings(AXES_ENABLED=True, TRUSTED_PROXY_COUNT=1)
def test_spraying_many_usernames_from_one_address_locks_that_address():
    spray(MANY, **BEHIND_THE_PROXY, HTTP_X_FORWARDED_FOR=HOME)
    # Even the right password of an account the sprayer never tried.
    assert log_in(RIGHT, **BEHIND_THE_PROXY, HTTP_X_FORWARDED_FOR=HOME).status_code == 429


@override_settings(AXES_ENABLED=True, TRUSTED_PROXY_COUNT=1)
def test_a_sprayer_locks_no_one_out_from_their_own_address():
    spray([*MANY, "fay", "fay", "fay", "fay", "fay"], **BEHIND_THE_PROXY, HTTP_X_FORWARDED_FOR=HOME)
    assert log_in(RIGHT, **BEHIND_THE_PROXY, HTTP_X_FORWARDED_FOR=ELSEWHERE).status_code == 302


@override_settings(AXES_ENABLED=True, TRUSTED_PROXY_COUNT=1)
def test_logging_in_to_an_own_account_between_guesses_does_not_reset_the_address_count():
    make_user("mallory")
    half = len(MANY) // 2
    spray(MANY[:half], **BEHIND_THE_PROXY, HTTP_X_FORWARDED_FOR=HOME)
    log_in(RIGHT, "mallory", **BEHIND_THE_PROXY, HTTP_X_FORWARDED_FOR=HOME)
    spray(MANY[half:], **BEHIND_THE_PROXY, HTTP_X_FORWARDED_FOR=HOME)
    assert log_in(RIGHT, **BEHIND_THE_PROXY, HTTP_X_FORWARDED_FOR=HOME).status_code == 429


@override_settings(AXES_ENABLED=True, TRUSTED_PROXY_COUNT=1)
def test_an_office_behind_one_address_mistyping_now_and_then_is_not_locked():
    # Four colleagues, four typos each: sixteen failures from the office's one address.
    for colleague in ["ann", "bob", "cat", "dan"]:
        for _ in range(4):
            log_in(WRONG, colleague, **BEHIND_THE_PROXY, HTTP_X_FORWARDED_FOR=HOME)
    assert log_in(RIGHT, **BEHIND_THE_PROXY, HTTP_X_FORWARDED_FOR=HOME).status_code == 302


@override_settings(AXES_ENABLED=True, TRUSTED_PROXY_COUNT=1)
def test_behind_the_proxy_a_sprayer_cannot_escape_the_lock_by_forging_addresses():
    spray(MANY, **BEHIND_THE_PROXY, HTTP_X_FORWARDED_FOR=f"1.1.1.1, {HOME}")
    forged = log_in(RIGHT, **BEHIND_THE_PROXY, HTTP_X_FORWARDED_FOR=f"9.9.9.9, {HOME}")
    assert forged.status_code == 429
