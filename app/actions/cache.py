"""What the reads of actions keep between requests, keyed so that a kept value is right
whenever its key is met again (app/generation.py says when the data changed):

- a list's total, by (its filters, the data generation, today);
- a list's whole page (its JSON and total), by its ETag: a digest of (the query, the data
  generation, today), so a dashboard asking the same question every minute is answered
  without reading a row until something changes;
- /stats (all but its stale count), by (its filters, the data generation, today);
- an action's JSON, by (id, version, the shown generation, today): a write to the action
  changes its version; a unit, speech or theme it shows renamed, its theme links or evidence
  change the shown generation; its light, overdue and due-soon change with the day.

Reads as of a past day keep nothing. Both are bounded LRUs (sizes in app/config.py), one per
app: each server process keeps its own, and all agree through the generation."""

import threading
from collections import OrderedDict
from collections.abc import Hashable
from datetime import date
from typing import Any, Generic, TypeVar

from app.actions.schemas import ActionFilters

V = TypeVar("V")


class Lru(Generic[V]):
    """A thread-safe map keeping the most recently used size entries (0: keeps nothing)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        """The value kept for key, if any, now the most recently used."""
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def put(self, key: Hashable, value: V) -> None:
        """Keep value for key, dropping the least recently used entry beyond size."""
        if self.size <= 0:
            return
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


class ReadCache:
    """An app's kept totals, action JSON, list pages and statistics (as many as totals)."""

    def __init__(self, totals: int, actions: int, pages: int) -> None:
        self.totals: Lru[int] = Lru(totals)
        self.actions: Lru[bytes] = Lru(actions)
        self.pages: Lru[tuple[bytes, int]] = Lru(pages)
        self.stats: Lru[Any] = Lru(totals)


def filters_key(filters: ActionFilters) -> str:
    """filters in one normal form: the same selection, the same key, whatever the order or
    repetition of repeatable parameters."""
    normal = filters.model_copy(
        update={
            "status": sorted(set(filters.status)),
            "light": sorted(set(filters.light)),
            "q": filters.q.strip() if filters.q else None,
        }
    )
    return normal.model_dump_json()


def action_key(action_id: int, version: int, shown: int, today: date) -> tuple[int, int, int, date]:
    """The key of an action's JSON."""
    return (action_id, version, shown, today)
