"""Actions (事项): the proposals Tashan tracks, their workflow and their timeline.

Where things go, by file:

- models.py: the tables (actions, themes, the append-only event timeline).
- workflow.py: statuses, kinds and priorities with their Chinese labels; the moves between
  statuses and which of them need a note.
- schemas.py: the API's shapes: ActionCreate and ActionUpdate (what a client writes),
  ActionRead (what it reads), ActionFilters (the filters of the list, /stats and reports).
- derived.py: what is worked out rather than stored (overdue, expected progress, the
  warning light, due-soon), each rule in Python and in SQL.
- reads.py: ActionRead's values (action_read) and the JSON of the list, the get and every
  write's answer.
- listing.py: the queries over many actions: filters, sort, as-of moments.
- search.py: the substring index behind the q filter.
- service.py: the use cases that change actions; each leaves an event.
- stats.py: /stats, its counts and the unit ranking.
- router.py: the HTTP layer.

A new action field: its column in models.py (and a migration); in schemas.py, ActionRead
and, if clients may write it, ActionCreate / ActionUpdate; its value in reads.action_read;
if it is worked out from other fields, its rule in derived.py.

A new filter: a field of schemas.ActionFilters and its clause in listing.filter_clauses;
the list, /stats and reports then all have it.

A new report column: app/reports (ActionLine in document.py, its value in builder.py, a
Column in formats/table.py, its heading in app/spreadsheet.py); a value the API also shows
takes its rule from derived.py, so that the two agree.
"""
