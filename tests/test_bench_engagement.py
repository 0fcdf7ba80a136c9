"""The bench's engagement is bulk-inserted, yet stands as the real verbs would have left it:
its evidence register verifies, and the bench can remove it again."""

import pytest

from workshops.bench import (
    BENCH_SLUG,
    EngagementSize,
    remove_large_engagement,
    seed_large_engagement,
)
from workshops.ledger import verify_register
from workshops.management.commands.bench import _percentile, stalls_summary
from workshops.models import Engagement, RequiredApprover, ReviewState, SignoffRecord

SMALL = EngagementSize(
    systems=2,
    outputs_per_system=1,
    levels=2,
    failure_modes=2,
    members=8,
    versions=3,
    threads_per_version=1,
    audit_rows=5,
)


@pytest.mark.django_db
def test_the_bench_engagements_register_verifies():
    seed_large_engagement(SMALL)
    engagement = Engagement.objects.get(slug=BENCH_SLUG)
    problems = [(group, f) for group, f in verify_register(engagement) if f.problem]
    assert problems == []
    reviews = list(engagement.reviews.order_by("version__number"))
    # as sign-offs leave them: the older signed-off one superseded by the newer
    assert [r.state for r in reviews] == [
        ReviewState.SUPERSEDED,
        ReviewState.APPROVED,
        ReviewState.IN_REVIEW,
    ]
    assert SignoffRecord.objects.filter(engagement=engagement).count() == 2
    assert RequiredApprover.objects.filter(review__engagement=engagement).count() == 3


@pytest.mark.django_db
def test_the_bench_engagement_is_removed_again():
    seed_large_engagement(SMALL)
    remove_large_engagement()
    assert not Engagement.objects.filter(slug=BENCH_SLUG).exists()


def test_the_benchs_p95_is_the_nearest_rank_not_the_slowest_fetch():
    twenty = [float(n) for n in range(1, 21)]
    assert _percentile(twenty, 95) == 19.0  # one slow fetch in twenty is the 5% a p95 leaves out
    assert _percentile([float(n) for n in range(1, 61)], 95) == 57.0
    assert _percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert _percentile([7.0], 95) == 7.0


def test_the_bench_counts_the_machines_stalls_as_runs_far_longer_than_the_usual_one():
    usual, stalled = [1.0] * 97, [7.0, 13.5, 5.9]  # 5.9: under 5 ms more than the usual run
    assert stalls_summary(usual + stalled, 2.0) == (
        "A loop of Python on this machine: 2 stalls of over 5 ms in 2 s (1.0 a second), "
        "the longest 12.5 ms; a fetch meeting one is that much slower."
    )
    assert stalls_summary(usual, 2.0).startswith("A loop of Python on this machine: 0 stalls")
