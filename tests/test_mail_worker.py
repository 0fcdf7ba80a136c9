"""Mail leaves through the background worker, never a page: it is queued once the action has
committed, sent when the worker runs, tried again later when the mail server fails, and logged as
failed after the last attempt. A slow or unreachable mail server never delays or breaks a page."""

from __future__ import annotations

import datetime
import logging
import socket
import time
from collections.abc import Iterator

import pytest
from django.core import mail
from django.db import transaction
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tests.worker import run_worker
from workshops.models import Invitation, Role
from workshops.notifications import send_invitation

UNREACHABLE_MAIL = {
    "default": {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {"host": "127.0.0.1", "port": 9, "timeout": 2},
    }
}


def invite(client, facilitator, email="newbie@example.com"):
    client.force_login(facilitator)
    return client.post(reverse("invite", args=["acme"]), {"email": email, "role": Role.REVIEWER})


def mail_tasks():
    return DBTaskResult.objects.filter(task_path="workshops.notifications.deliver_mail")


@pytest.fixture
def silent_mail_server() -> Iterator[int]:
    """A port that accepts connections and never says a word: a mail server that hangs."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


# The page


@override_settings(MAILERS=UNREACHABLE_MAIL)
@pytest.mark.django_db(transaction=True)
def test_inviting_answers_normally_when_the_mail_server_is_unreachable(client, facilitator):
    response = invite(client, facilitator)
    assert (response.status_code, Invitation.objects.count()) == (302, 1)
    assert "Invitation sent to newbie@example.com" in client.get(response.url).content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_mail_server_that_hangs_does_not_delay_the_page(client, facilitator, silent_mail_server):
    hanging = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": silent_mail_server, "timeout": 30},
        }
    }
    with override_settings(MAILERS=hanging):
        started = time.monotonic()
        response = invite(client, facilitator)
        elapsed = time.monotonic() - started
    # Sending from the page would wait out the 30 s timeout.
    assert (response.status_code, elapsed < 10) == (302, True)


# Queued after commit, sent by the worker


def test_mail_is_queued_only_once_the_action_has_committed(
    client, facilitator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as after_commit:
        invite(client, facilitator)
        queued_before_commit = mail_tasks().count()
    for callback in after_commit:
        callback()
    assert (queued_before_commit, mail_tasks().count()) == (0, 1)


def test_an_action_that_rolls_back_queues_no_mail(
    engagement, facilitator, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as after_commit,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        send_invitation(Invitation.objects.create(engagement=engagement, email="x@example.com"))
        raise RuntimeError("the action failed after composing its mail")
    assert (after_commit, mail_tasks().count()) == ([], 0)


@pytest.mark.django_db(transaction=True)
def test_the_invitation_arrives_once_the_worker_runs(client, facilitator):
    invite(client, facilitator)
    sent_by_the_page = len(mail.outbox)
    run_worker()
    assert (sent_by_the_page, [m.to for m in mail.outbox]) == (0, [["newbie@example.com"]])


# Retries


@pytest.mark.django_db(transaction=True)
def test_a_failed_send_is_tried_again_later(client, facilitator):
    invite(client, facilitator)
    with override_settings(MAILERS=UNREACHABLE_MAIL, MAIL_RETRY_SECONDS=60):
        run_worker()
    retry = mail_tasks().get(status="READY")
    delay = retry.run_after - timezone.now()
    assert datetime.timedelta(seconds=50) < delay <= datetime.timedelta(seconds=60)
    assert (retry.args_kwargs["args"][-1], mail.outbox) == (2, [])


@pytest.mark.django_db(transaction=True)
def test_the_retry_delivers_once_the_mail_server_is_back(client, facilitator):
    invite(client, facilitator)
    with override_settings(MAILERS=UNREACHABLE_MAIL):
        run_worker()
    mail_tasks().filter(status="READY").update(run_after=timezone.now())  # the delay has passed
    run_worker()
    assert [m.to for m in mail.outbox] == [["newbie@example.com"]]


@override_settings(MAILERS=UNREACHABLE_MAIL, MAIL_SEND_ATTEMPTS=3, MAIL_RETRY_SECONDS=0)
@pytest.mark.django_db(transaction=True)
def test_a_send_that_keeps_failing_is_logged_as_failed_after_the_last_attempt(
    client, facilitator, caplog
):
    invite(client, facilitator)
    with caplog.at_level(logging.WARNING, logger="workshops.notifications"):
        run_worker()
    attempts = list(mail_tasks().order_by("enqueued_at").values_list("status", flat=True))
    assert attempts == ["SUCCESSFUL", "SUCCESSFUL", "FAILED"]  # two retries queued, then given up
    failures = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert failures == [
        "Mail 'Invitation: Escalation framework (Acme Insurance)' to newbie@example.com "
        "failed after 3 attempts: not sent"
    ]
