"""Statuses, kinds and priorities of actions with their Chinese labels, and the workflow
table: which status may move to which, which moves need a note, and which need a
supervisor (the review of completions). A new status, kind or priority goes here with its
label; the service enforces the table (service.apply_transition).

Completion is reviewed: an editor submits an action in progress (submitted, 待审核 /
申请办结), and a supervisor or admin approves it (completed) or sends it back (in_progress,
with a note saying why). Only they complete directly or reopen."""

from enum import StrEnum

from app.auth.models import Role


class Status(StrEnum):
    """Where an action stands."""

    proposed = "proposed"
    accepted = "accepted"
    in_progress = "in_progress"
    submitted = "submitted"
    blocked = "blocked"
    completed = "completed"
    declined = "declined"


STATUS_LABELS = {
    Status.proposed: "待研究",
    Status.accepted: "已采纳",
    Status.in_progress: "推进中",
    Status.submitted: "待审核",
    Status.blocked: "受阻",
    Status.completed: "已完成",
    Status.declined: "不采纳",
}

# The only moves there are; anything else is 409.
TRANSITIONS: dict[Status, tuple[Status, ...]] = {
    Status.proposed: (Status.accepted, Status.declined),
    Status.accepted: (Status.in_progress, Status.blocked, Status.declined),
    Status.in_progress: (Status.blocked, Status.submitted, Status.completed),
    Status.submitted: (Status.completed, Status.in_progress),
    Status.blocked: (Status.in_progress, Status.declined),
    Status.completed: (Status.in_progress,),
    Status.declined: (Status.proposed,),
}

# Moves that go back (reopen a completed action, send a submitted one back, reconsider a
# declined one) must say why, as must every move to blocked, declined or submitted.
BACKWARD_MOVES = {
    (Status.completed, Status.in_progress),
    (Status.submitted, Status.in_progress),
    (Status.declined, Status.proposed),
}
NOTED_TARGETS = (Status.blocked, Status.declined, Status.submitted)


def note_required(current: Status, target: Status) -> bool:
    """Whether moving from current to target needs a note."""
    return target in NOTED_TARGETS or (current, target) in BACKWARD_MOVES


# Moves of the table that need more than the editor role every transition needs, with the
# way that is open to those without it (the 403 says it).
REVIEW_MOVES: dict[tuple[Status, Status], tuple[Role, str]] = {
    (Status.in_progress, Status.completed): (
        Role.supervisor,
        "submit it for review (to: submitted, with a note); a supervisor or admin then approves it",
    ),
    (Status.submitted, Status.completed): (
        Role.supervisor,
        "it is waiting for review; a supervisor or admin approves it (to: completed) or sends "
        "it back (to: in_progress)",
    ),
    (Status.submitted, Status.in_progress): (
        Role.supervisor,
        "it is waiting for review; a supervisor or admin approves it (to: completed) or sends "
        "it back (to: in_progress)",
    ),
    (Status.completed, Status.in_progress): (
        Role.supervisor,
        "ask a supervisor or admin to reopen it (to: in_progress, with a note)",
    ),
}


def role_needed(current: Status, target: Status) -> Role:
    """The least role that may move from current to target (a move of the table)."""
    return REVIEW_MOVES[(current, target)][0] if (current, target) in REVIEW_MOVES else Role.editor


def open_way(current: Status, target: Status) -> str:
    """What a caller whose role may not make the move can do instead."""
    return REVIEW_MOVES[(current, target)][1]


# Statuses in which an action is no longer being worked on; every other one is active (a
# submitted action too: it is open, and overdue past its due date, until it is approved).
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
