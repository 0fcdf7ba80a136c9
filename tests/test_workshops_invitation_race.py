"""Two people following the same invitation link at the same moment: only one gets in."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from tests.factories import make_engagement, make_user
from workshops.models import Invitation, Membership, Role

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_acceptances_of_one_invitation_let_only_one_in():
    engagement = make_engagement()
    invitation = Invitation.objects.create(
        engagement=engagement, email="a@example.com", role=Role.APPROVER
    )
    # Two accounts of the invited address (two tabs, or an account made twice): one gets in.
    users = [make_user(email="a@example.com"), make_user(email="a@example.com")]
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def accept(user):
        start.wait()
        try:
            Invitation.accept(invitation.token, user)
            outcomes.append("accepted")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=accept, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["accepted", "refused"]
    assert Membership.objects.filter(engagement=engagement).count() == 1
