"""Text as search reads it: punctuation, quote marks and spaces ignored, so that 标准地改革
finds 加快“标准地”改革. The index (app.actions.search) and the SQL function search_squash
(registered on SQLite connections by app.db; in SQL on PostgreSQL, migration 0016) agree."""

import re

# What search ignores: everything but letters and digits (space, punctuation, quote marks, _).
IGNORED = re.compile(r"[\W_]+")


def squash(text: str | None) -> str:
    """text lower-cased, letters and digits only."""
    return IGNORED.sub("", (text or "").lower())
