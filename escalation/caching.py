"""What is computed from framework content, kept in Django's cache (config/settings.py CACHES)
under a key that names the content itself, so that an entry never goes stale and needs no
invalidation:

- `for_hashes`: under the SHA-256 of frozen documents (a hash names one content forever);
- `for_revision`: under a working draft's content revision (FrameworkRevision, moved by the
  database on every write to the framework's content, whatever path the write takes).

Use one of these two for anything rendered from framework content; a page's parts that depend on
who asks (permissions, the CSRF token) stay outside the cached value.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from django.core.cache import cache

if TYPE_CHECKING:
    from escalation.models import Framework


def for_hashes[T](kind: str, sha256s: Sequence[str], compute: Callable[[], T]) -> T:
    """`compute()` once per `kind` of rendering and documents; kept until the cache culls it."""
    return _get_or_compute(f"frozen:{kind}:{':'.join(sha256s)}", compute)


def for_revision[T](
    kind: str, framework: Framework, compute: Callable[[], T], *inputs: object
) -> T:
    """`compute()` once per `kind`, content revision of `framework` and `inputs` (anything with a
    stable `repr`: page numbers, settings the result depends on).

    The revision is read before `compute()` runs, so `compute` must read the content it needs
    from the database itself (not from objects loaded before this call): the entry then holds
    that revision's content or a later one, never an earlier one."""
    from escalation.models import FrameworkRevision

    digest = hashlib.sha256(repr(inputs).encode()).hexdigest()[:32] if inputs else "-"
    revision = FrameworkRevision.of(framework)
    return _get_or_compute(f"draft:{kind}:{framework.pk}:{revision}:{digest}", compute)


def _get_or_compute[T](key: str, compute: Callable[[], T]) -> T:
    value: T | None = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, timeout=None)
    return value
