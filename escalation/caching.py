"""What is computed from framework content, kept in Django's cache (config/settings.py CACHES)
under a key that names the content itself, so that an entry never goes stale and needs no
invalidation:

- `for_hashes`: under the SHA-256 of frozen documents (a hash names one content forever);
- `for_revision`: under a working draft's content revision (FrameworkRevision, moved by the
  database on every write to the framework's content, whatever path the write takes);
- `for_counter`: under another RevisionCounter's value, moved the same way by every write to
  what is cached under it (workshops counts each engagement's writes to its reviews).

Use one of these for anything rendered from framework content; a page's parts that depend on
who asks (permissions, the CSRF token) stay outside the cached value.

Because such an entry never changes, each process also keeps the most recently used ones in its
own memory (`LOCAL`, bounded by CONTENT_CACHE_LOCAL_BYTES), as pickled bytes so that a caller
can change what it gets without changing what the next caller gets: a page's second request reads
no cache table. Nothing here is ever invalidated, so no process can serve an entry another
process has replaced.
"""

from __future__ import annotations

import hashlib
import pickle
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.cache import cache

if TYPE_CHECKING:
    from escalation.models import Framework


def code_version() -> str:
    """A digest of the project's code and templates. Every key carries it: a shared cache
    (PostgreSQL, Redis) outlives a deploy, and a release that prints a page differently must not
    serve what the previous release printed."""
    root = Path(settings.BASE_DIR)
    digest = hashlib.sha256()
    for folder in ("config", "escalation", "workshops", "monitoring", "templates"):
        for path in sorted((root / folder).rglob("*")):
            if path.suffix in {".py", ".html"} and "migrations" not in path.parts:
                digest.update(path.relative_to(root).as_posix().encode() + b"\0")
                digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


CODE_VERSION = code_version()


def hashes_key(kind: str, sha256s: Sequence[str]) -> str:
    return f"frozen:{CODE_VERSION}:{kind}:{':'.join(sha256s)}"


def for_hashes[T](kind: str, sha256s: Sequence[str], compute: Callable[[], T]) -> T:
    """`compute()` once per `kind` of rendering and documents; kept until the cache culls it."""
    return _get_or_compute(hashes_key(kind, sha256s), compute)


def for_revision[T](
    kind: str, framework: Framework, compute: Callable[[], T], *inputs: object
) -> T:
    """`compute()` once per `kind`, content revision of `framework` and `inputs` (anything with a
    stable `repr`: page numbers, settings the result depends on).

    The revision is read before `compute()` runs, so `compute` must read the content it needs
    from the database itself (not from objects loaded before this call): the entry then holds
    that revision's content or a later one, never an earlier one."""
    from escalation.models import FrameworkRevision

    read = _revisions_read.get()
    if read is None:
        revision = FrameworkRevision.of(framework)
    elif framework.pk in read:
        revision = read[framework.pk]
    else:
        revision = read[framework.pk] = FrameworkRevision.of(framework)
    return _get_or_compute(_revision_key("draft", kind, framework.pk, revision, inputs), compute)


def for_counter[T](
    counter: str, kind: str, owner_pk: int, revision: int, compute: Callable[[], T], *inputs: object
) -> T:
    """`compute()` once per `kind`, `revision` of the owner's `counter` (a RevisionCounter the
    database moves with every write to what `compute` reads) and `inputs`, as `for_revision`
    does. The caller reads `revision` before `compute()` runs, so the entry holds that
    revision's content or a later one, never an earlier one."""
    return _get_or_compute(_revision_key(counter, kind, owner_pk, revision, inputs), compute)


def _revision_key(
    counter: str, kind: str, owner_pk: int, revision: int, inputs: tuple[object, ...]
) -> str:
    digest = hashlib.sha256(repr(inputs).encode()).hexdigest()[:32] if inputs else "-"
    return f"{counter}:{CODE_VERSION}:{kind}:{owner_pk}:{revision}:{digest}"


def revision_read_with(framework: Framework, revision: int) -> None:
    """Within `revisions_read_once`: `framework`'s revision as a query that read other rows read
    it too (`FrameworkRevision.column`), so that `for_revision` reads it no more. Outside it,
    nothing: work that writes reads the revision at each use."""
    read = _revisions_read.get()
    if read is not None:
        read.setdefault(framework.pk, revision)


# Set while revisions_read_once() runs: each framework's revision as first read there.
_revisions_read: ContextVar[dict[int, int] | None] = ContextVar("revisions_read", default=None)


@contextmanager
def revisions_read_once() -> Iterator[None]:
    """Within it, `for_revision` reads each framework's revision once and uses that number
    after: for work that writes no framework content (config.middleware runs every GET in it),
    whose page then shows one revision throughout, however many parts it takes from the cache.
    Work that writes must not run in it: a part rendered after its own write would be looked up
    under the revision from before it."""
    token = _revisions_read.set({})
    try:
        yield
    finally:
        _revisions_read.reset(token)


class LocalTier:
    """The process's most recently used entries, as pickled bytes, at most `max_bytes` in all."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()  # gunicorn's threads share a worker's tier

    def get(self, key: str, default: Any = None) -> Any:
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return default
            self._entries.move_to_end(key)
        return pickle.loads(found)

    def put(self, key: str, value: object) -> None:
        data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        if len(data) > self.max_bytes // 4:
            return  # one entry may not push out most of the others
        with self._lock:
            previous = self._entries.pop(key, None)
            self._size -= len(previous) if previous is not None else 0
            self._entries[key] = data
            self._size += len(data)
            while self._size > self.max_bytes:
                _, evicted = self._entries.popitem(last=False)
                self._size -= len(evicted)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._size = 0


LOCAL = LocalTier(settings.CONTENT_CACHE_LOCAL_BYTES)


# What the tiers answer for a key they do not hold (None is a value that can be kept).
_MISSING = object()


def _get_or_compute[T](key: str, compute: Callable[[], T]) -> T:
    value = LOCAL.get(key, _MISSING)
    if value is not _MISSING:
        return value
    value = cache.get(key, _MISSING)
    if value is _MISSING:
        value = compute()
        cache.set(key, value, timeout=None)
    LOCAL.put(key, value)
    return value
