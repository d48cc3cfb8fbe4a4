"""Evidence files (佐证材料): the files a unit attaches to an action to prove its work, kept
byte for byte.

- models.py: the evidence table (one row per upload; withdrawn rows stay).
- schemas.py: EvidenceForm (the fields beside the file), EvidenceRead, EvidenceFilters.
- upload.py: receiving a multipart upload as it streams in: to a temporary file, hashed and
  counted, 413 past TASHAN_MAX_EVIDENCE_BYTES.
- sniff.py: what the bytes are (PDF, PNG, JPEG, WebP, docx/xlsx/pptx, OFD, UTF-8 text), 415
  otherwise; zips bounded against bombs.
- store.py: the content-addressed store the bytes live in (a directory, or S3).
- service.py: attaching, withdrawing, reading; each change an `evidence` event on the
  action's timeline through actions.service.record.
- router.py: the HTTP layer (/actions/{id}/evidence, /evidence/{id}, /evidence/{id}/file).

Who may withdraw is decided in app.auth.units.withdraw_refusal; evidence_count on actions in
app.actions.reads; the rule that submitting needs evidence in actions.service."""
