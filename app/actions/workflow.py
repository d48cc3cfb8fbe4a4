"""Statuses, kinds and priorities of actions with their Chinese labels, and the workflow
table: which status may move to which, and which moves need a note. A new status, kind or
priority goes here with its label; the service enforces the table (service.apply_transition)."""

from enum import StrEnum


class Status(StrEnum):
    """Where an action stands."""

    proposed = "proposed"
    accepted = "accepted"
    in_progress = "in_progress"
    blocked = "blocked"
    completed = "completed"
    declined = "declined"


STATUS_LABELS = {
    Status.proposed: "待研究",
    Status.accepted: "已采纳",
    Status.in_progress: "推进中",
    Status.blocked: "受阻",
    Status.completed: "已完成",
    Status.declined: "不采纳",
}

# The only moves there are; anything else is 409.
TRANSITIONS: dict[Status, tuple[Status, ...]] = {
    Status.proposed: (Status.accepted, Status.declined),
    Status.accepted: (Status.in_progress, Status.blocked, Status.declined),
    Status.in_progress: (Status.blocked, Status.completed),
    Status.blocked: (Status.in_progress, Status.declined),
    Status.completed: (Status.in_progress,),
    Status.declined: (Status.proposed,),
}

# Moves that go back (reopen a completed action, reconsider a declined one) must say why,
# as must every move to blocked or declined.
BACKWARD_MOVES = {(Status.completed, Status.in_progress), (Status.declined, Status.proposed)}


def note_required(current: Status, target: Status) -> bool:
    """Whether moving from current to target needs a note."""
    return target in (Status.blocked, Status.declined) or (current, target) in BACKWARD_MOVES


# Statuses in which an action is no longer being worked on.
CLOSED = (Status.completed, Status.declined)


class ActionKind(StrEnum):
    """What sort of proposal an action is."""

    recommendation = "recommendation"
    lesson = "lesson"
    directive = "directive"


KIND_LABELS = {
    ActionKind.recommendation: "建议",
    ActionKind.lesson: "经验借鉴",
    ActionKind.directive: "工作要求",
}


class Priority(StrEnum):
    """How urgent an action is."""

    high = "high"
    medium = "medium"
    low = "low"


PRIORITY_LABELS = {Priority.high: "高", Priority.medium: "中", Priority.low: "低"}
