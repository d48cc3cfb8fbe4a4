"""Reminders and 催办 (API.md "Reminders and 催办"): channels that reach a group where people
work (企业微信, 钉钉, any webhook), notifications written to an outbox in the same transaction
as what caused them, and their deliveries, claimed, sent and retried by the scheduler and cron."""
