"""Extension requests (延期申请): once an action has a due date, an editor moves it only by
asking here, and a supervisor decides.

- models.py: the table (one pending request per action, by a partial unique index).
- schemas.py: ExtensionCreate (the ask), ExtensionDecision, ExtensionRead, ExtensionFilters.
- service.py: asking, deciding (a conditional UPDATE, so two decisions at once keep one),
  the lists; each change leaves an event through actions.service.record.
- router.py: the HTTP layer (/actions/{id}/extensions, and /extensions for the queue).

The rule that refuses an editor's other ways of moving a due date (PATCH, the Excel import)
is actions.service.due_date_problem."""
