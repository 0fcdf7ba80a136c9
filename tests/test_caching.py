"""The process tier of escalation.caching: bounded, most recently used kept, and each caller
gets its own copy."""

from escalation.caching import LocalTier


def test_a_caller_changing_what_it_got_does_not_change_what_the_next_caller_gets():
    tier = LocalTier(max_bytes=10_000)
    tier.put("document", {"levels": ["Prompt revision"]})
    tier.get("document")["levels"].append("changed by a caller")
    assert tier.get("document") == {"levels": ["Prompt revision"]}


def test_the_least_recently_used_entries_go_first_when_the_tier_is_full():
    tier = LocalTier(max_bytes=1_000)
    for number in range(3):
        tier.put(f"entry {number}", "x" * 200)
    tier.get("entry 0")  # used: now the most recent
    for number in range(3, 6):
        tier.put(f"entry {number}", "x" * 200)
    kept = [key for key in [f"entry {number}" for number in range(6)] if tier.get(key)]
    assert kept == ["entry 0", "entry 3", "entry 4", "entry 5"]


def test_an_entry_larger_than_a_quarter_of_the_tier_is_not_kept():
    tier = LocalTier(max_bytes=1_000)
    tier.put("small", "x" * 100)
    tier.put("large", "x" * 400)
    assert tier.get("large") is None and tier.get("small") == "x" * 100


def test_none_computed_is_kept_and_not_computed_again(db):
    from escalation import caching

    calls = []

    def compute() -> None:
        calls.append(1)

    for _ in range(2):
        assert caching.for_counter("test", "nothing", 1, 1, compute) is None
    caching.LOCAL.clear()  # the shared cache keeps it too
    assert caching.for_counter("test", "nothing", 1, 1, compute) is None
    assert len(calls) == 1
