"""The data generation: a one-row table whose numbers change with every committed write to
the tables the reads of actions depend on (database triggers advance it, migration 0015, so
every writer does, whatever it is). Caches key what they keep by it, so every server
process, on any machine, sees another's writes on its next request.

- generation: any write to actions, their events, theme and co-owner links, themes, units,
  sources, speeches or evidence;
- shown: a write that changes what an action shows without changing its version (a unit
  renamed, a theme link, evidence, …); an action's JSON keyed by (id, version, shown) is
  still right while it stays.

Read it first in the transaction whose reads it keys: SQLite reads one snapshot; on
PostgreSQL (read committed) a later statement sees the same or newer data, so a cached
value is never older than its key."""

from dataclasses import dataclass

from sqlalchemy import BigInteger, Column
from sqlalchemy.engine import Connection
from sqlmodel import Field, SQLModel

from app.db import driver_cursor


class DataGeneration(SQLModel, table=True):
    """The one row (id 1) of the data generation."""

    __tablename__ = "data_generation"

    id: int = Field(primary_key=True)
    generation: int = Field(sa_column=Column(BigInteger, nullable=False))
    shown: int = Field(sa_column=Column(BigInteger, nullable=False))


@dataclass(frozen=True)
class Generation:
    """The data generation as one transaction read it."""

    data: int
    shown: int


_READ = "SELECT generation, shown FROM data_generation WHERE id = 1"


def read_generation(connection: Connection) -> Generation:
    """The generation in connection's transaction (one indexed row, on the DBAPI cursor)."""
    with driver_cursor(connection) as cursor:
        cursor.execute(_READ)
        data, shown = cursor.fetchone()
    return Generation(data, shown)
