"""Conditional GETs: GitHub answers 304, free of its rate limit, when a kept answer is current.
Kept: bodies and answer headers by URL, never a request header (so never the token)."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from approvalflow_sync.atomic_file import write_atomically

log = logging.getLogger("approvalflow_sync.github")

KEPT_HEADERS = ("etag", "link", "last-modified", "content-type")
"""The answer headers kept beside a body: its validator and what pagination reads."""
MAX_BYTES = 32 * 2**20
"""The store's size bound; the answers used longest ago go first."""


class Kept(BaseModel):
    model_config = ConfigDict(frozen=True)

    url: str
    etag: str
    headers: dict[str, str]
    body: str

    @property
    def size(self) -> int:
        return len(self.body) + sum(len(k) + len(v) for k, v in self.headers.items())


class _Saved(BaseModel):
    """The file's shape; a file of another shape or version starts the store empty."""

    version: Literal[1] = 1
    entries: list[Kept]


class ETagStore:
    """Answers by URL, bounded to ``max_bytes``, safe to share between threads."""

    def __init__(self, max_bytes: int = MAX_BYTES) -> None:
        self._entries: OrderedDict[str, Kept] = OrderedDict()
        self._bytes = 0
        self._max = max_bytes
        self._lock = threading.Lock()
        self._changed = False

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, url: str) -> Kept | None:
        with self._lock:
            kept = self._entries.get(url)
            if kept is not None:
                self._entries.move_to_end(url)
            return kept

    def put(self, url: str, headers: dict[str, str], body: str) -> None:
        """Keep a 200 answer that carries an ``ETag``; others are not worth asking about."""
        etag = headers.get("etag")
        if not etag:
            return
        needed = {k: headers[k] for k in KEPT_HEADERS if k in headers}
        kept = Kept(url=url, etag=etag, headers=needed, body=body)
        with self._lock:
            self._add(url, kept)
            self._changed = True

    def _add(self, url: str, kept: Kept) -> None:
        old = self._entries.pop(url, None)
        self._bytes -= old.size if old else 0
        if kept.size > self._max:
            return
        self._entries[url] = kept
        self._bytes += kept.size
        while self._bytes > self._max:
            _url, dropped = self._entries.popitem(last=False)
            self._bytes -= dropped.size

    @classmethod
    def load(cls, path: Path, max_bytes: int = MAX_BYTES) -> ETagStore:
        """The store saved at ``path``; empty, with one warning, when the file is unusable."""
        store = cls(max_bytes)
        if not path.exists():
            return store
        try:
            saved = _Saved.model_validate_json(path.read_bytes())
        except (OSError, ValidationError) as exc:
            log.warning(
                "the ETag store %s could not be read (%s); starting without it: every GET counts "
                "against the rate limit this run",
                path,
                exc.__class__.__name__,
            )
            return store
        for entry in saved.entries:
            store._add(entry.url, entry)
        return store

    def save(self, path: Path) -> None:
        """Write the store to ``path`` atomically, unless nothing changed since it was read."""
        with self._lock:
            if not self._changed and path.exists():
                return
            saved = _Saved(entries=list(self._entries.values()))
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(path, saved.model_dump_json())
        except OSError as exc:
            log.warning("the ETag store %s was not saved (%s)", path, exc.__class__.__name__)
