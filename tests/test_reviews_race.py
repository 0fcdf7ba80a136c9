"""Two people acting at the same moment, on two database connections: one item edited twice,
one version signed off by its last two approvers."""

import threading

import pytest
from django.db import connection, transaction

from escalation.models import EscalationLevel, StaleEditError
from tests.factories import SEEDED, make_engagement, make_member, make_user
from tests.framework_content import fill_small_framework, make_framework
from workshops.models import Role
from workshops.signoff import IllegalReviewMoveError, ReviewAction, ReviewState

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_edits_of_one_item_one_wins_the_other_is_told():
    framework = make_framework(name="Race framework")
    fill_small_framework(framework)
    loaded = EscalationLevel.objects.get(framework=framework, key="fine-tuning")
    first_saved = threading.Event()
    outcome = {}

    def first_editor():
        # Holds its UPDATE's row lock until the second editor's UPDATE is waiting on it.
        try:
            level = EscalationLevel.objects.get(pk=loaded.pk)
            level.cost_ceiling = 50000
            with transaction.atomic():
                level.save_edited(loaded_row_version=loaded.row_version)
                first_saved.set()
                threading.Event().wait(0.5)
            outcome["first"] = "saved"
        finally:
            connection.close()

    def second_editor():
        try:
            level = EscalationLevel.objects.get(pk=loaded.pk)
            level.exit_criteria = "Quality back above the floor for 2 weeks"
            first_saved.wait(5)
            try:
                level.save_edited(loaded_row_version=loaded.row_version)
                outcome["second"] = "saved"
            except StaleEditError as stale:
                outcome["second"] = stale
        finally:
            connection.close()

    threads = [threading.Thread(target=first_editor), threading.Thread(target=second_editor)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert outcome["first"] == "saved"
    assert isinstance(outcome["second"], StaleEditError)
    # What the second editor is shown: the first editor's change, in the current row.
    assert outcome["second"].current.cost_ceiling == 50000


def test_after_a_refused_edit_the_winner_is_kept_and_the_loser_can_reapply():
    framework = make_framework(name="Race framework")
    fill_small_framework(framework)
    loaded_version = EscalationLevel.objects.get(framework=framework, key="fine-tuning").row_version
    barrier = threading.Barrier(2)
    results = []

    def editor(field, value):
        try:
            level = EscalationLevel.objects.get(framework=framework, key="fine-tuning")
            setattr(level, field, value)
            barrier.wait()
            try:
                level.save_edited(loaded_row_version=loaded_version, update_fields=[field])
                results.append(("saved", field))
            except StaleEditError as stale:
                # The loser reloads the winner's row and applies its own change on top.
                current = stale.current
                setattr(current, field, value)
                current.save_edited(loaded_row_version=current.row_version, update_fields=[field])
                results.append(("reapplied", field))
        finally:
            connection.close()

    threads = [
        threading.Thread(target=editor, args=("trigger", "Two breaches in a week")),
        threading.Thread(target=editor, args=("rollback_rule", "Revert to the base model")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    level = EscalationLevel.objects.get(framework=framework, key="fine-tuning")
    assert sorted(kind for kind, _ in results) == ["reapplied", "saved"]
    assert (level.trigger, level.rollback_rule, level.row_version) == (
        "Two breaches in a week",
        "Revert to the base model",
        loaded_version + 2,
    )


def test_two_last_approvers_at_once_sign_off_exactly_once():
    engagement = make_engagement(slug="race")
    fill_small_framework(engagement.framework)
    facilitator = make_member(engagement, Role.FACILITATOR, make_user("race-fay"))
    approvers = [make_member(engagement, Role.APPROVER, make_user(f"race-a{n}")) for n in (1, 2)]
    review = engagement.freeze_version(facilitator, "First cut")
    review.submit(facilitator, notify=False)
    barrier = threading.Barrier(2)
    signed = []

    def approve(user):
        try:
            mine = type(review).objects.get(pk=review.pk)
            barrier.wait()
            signed.append(mine.approve(user, authentication=SEEDED))
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(user,)) for user in approvers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    review.refresh_from_db()
    assert sorted(signed) == [False, True]
    assert review.state == ReviewState.APPROVED
    assert review.events.filter(action=ReviewAction.SIGN_OFF).count() == 1


def test_two_versions_submitted_at_once_the_second_is_told_not_crashed():
    engagement = make_engagement(slug="race-submit")
    fill_small_framework(engagement.framework)
    facilitator = make_member(engagement, Role.FACILITATOR, make_user("race-sub-fay"))
    first = engagement.freeze_version(facilitator, "First cut")
    engagement.framework.sunset_criteria = "Retired when the model is replaced"
    engagement.framework.save()
    second = engagement.freeze_version(facilitator, "Second cut")
    first_submitted = threading.Event()
    outcome = {}

    def submit_first():
        # Keeps its submit uncommitted until the second submit has had time to reach the database.
        try:
            with transaction.atomic():
                type(first).objects.get(pk=first.pk).submit(facilitator, notify=False)
                first_submitted.set()
                threading.Event().wait(0.5)
            outcome["first"] = "submitted"
        finally:
            connection.close()

    def submit_second():
        try:
            first_submitted.wait(5)
            try:
                type(second).objects.get(pk=second.pk).submit(facilitator, notify=False)
                outcome["second"] = "submitted"
            except Exception as refused:  # noqa: BLE001 - the kind of refusal is what is tested
                outcome["second"] = refused
        finally:
            connection.close()

    threads = [threading.Thread(target=submit_first), threading.Thread(target=submit_second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert outcome["first"] == "submitted"
    assert isinstance(outcome["second"], IllegalReviewMoveError)
    assert "withdraw it before submitting" in str(outcome["second"])
