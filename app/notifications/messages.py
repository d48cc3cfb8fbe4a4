"""The texts of notifications: short markdown in Chinese, for a 企业微信 or 钉钉 work group
as much as for a webhook. A message about an action names the task (title and id), its lead
unit, its due date, its light with expected against actual progress, and links to it
(TASHAN_PUBLIC_URL)."""

from dataclasses import dataclass
from datetime import date
from typing import Any

from app.actions.derived import LIGHT_LABELS, expected_progress, light
from app.actions.models import Action, ActionEvent, EventKind
from app.actions.workflow import Status
from app.config import Settings
from app.reports.builder import FIELD_LABEL_KEYS
from app.reports.models import Report
from app.reports.periods import CADENCE_LABELS, Cadence
from app.spreadsheet import Lang, label, status_label
from app.units.models import Unit

LEVEL_LABELS = {1: "一级", 2: "二级", 3: "三级"}
# Beyond this many characters a note is cut short: a group robot message stays a glance.
NOTE_CHARS = 200


@dataclass(frozen=True)
class Message:
    """A notification's title (one line) and text (markdown)."""

    title: str
    text: str


def action_url(settings: Settings, action_id: int | None) -> str:
    """Where a person opens the action."""
    return f"{settings.public_url.rstrip('/')}/api/v1/actions/{action_id}"


def report_url(settings: Settings, report_id: int | None) -> str:
    """Where a person downloads the report's file."""
    return f"{settings.public_url.rstrip('/')}/api/v1/reports/{report_id}/file"


def _short(note: str | None) -> str:
    text = " ".join((note or "").split())
    return text if len(text) <= NOTE_CHARS else text[: NOTE_CHARS - 1] + "…"


def _about(action: Action, owner: Unit, settings: Settings, today: date) -> list[str]:
    """The facts every message about an action gives."""
    lit = light(
        action.status, action.progress, action.start_on, action.due_on, today, settings.light_rules
    )
    expected = expected_progress(action.start_on, action.due_on, today)
    progress = f"实际进度 {action.progress}%"
    if expected is not None:
        progress = f"序时进度 {expected}%，{progress}"
    due = action.due_on.isoformat() if action.due_on else "未定"
    state = status_label(action.status, Lang.zh)
    return [
        f"- 牵头单位：{owner.name}",
        f"- 截止日期：{due}",
        f"- 状态：{state}" + (f"，{LIGHT_LABELS[lit]}" if lit is not None else ""),
        f"- {progress}",
        f"- [查看任务 #{action.id}]({action_url(settings, action.id)})",
    ]


def _message(
    head: str, action: Action, owner: Unit, settings: Settings, today: date, *lines: str
) -> Message:
    title = f"{head}：{action.title}（#{action.id}）"
    body = [f"**{title}**", *(f"> {line}" for line in lines if line)]
    return Message(title, "\n".join([*body, *_about(action, owner, settings, today)]))


def due_soon(action: Action, owner: Unit, settings: Settings, today: date) -> Message:
    """The reminder before the due date (提醒)."""
    assert action.due_on is not None
    days = (action.due_on - today).days
    when = "今天到期" if days == 0 else f"还有 {days} 天到期"
    return _message(
        "到期提醒", action, owner, settings, today, f"{when}，请牵头单位抓紧推进、按期办结。"
    )


def overdue(action: Action, owner: Unit, settings: Settings, today: date, level: int) -> Message:
    """The automatic 催办 after the due date, level 1–3."""
    assert action.due_on is not None
    days = (today - action.due_on).days
    return _message(
        f"{LEVEL_LABELS[level]}催办",
        action,
        owner,
        settings,
        today,
        f"已逾期 {days} 天（第 {level} 级催办），请牵头单位尽快办结或申请延期。",
    )


def reminder(
    action: Action, owner: Unit, settings: Settings, today: date, *, note: str, level: int, by: str
) -> Message:
    """A supervisor's 催办."""
    head = f"督查催办（{LEVEL_LABELS[level]}）"
    return _message(head, action, owner, settings, today, f"{by}：{_short(note)}")


def submitted(
    action: Action, owner: Unit, settings: Settings, today: date, *, note: str | None, by: str
) -> Message:
    """A unit asks to close the action: the office should review it."""
    return _message(
        "申请办结",
        action,
        owner,
        settings,
        today,
        f"{by} 申请办结，请督查室审核。",
        f"说明：{_short(note)}" if note else "",
    )


def decided(
    action: Action,
    owner: Unit,
    settings: Settings,
    today: date,
    *,
    approved: bool,
    note: str | None,
    by: str,
) -> Message:
    """The office approved the completion (审核通过) or sent it back (退回重办)."""
    return _message(
        "审核通过" if approved else "退回重办",
        action,
        owner,
        settings,
        today,
        f"{by} {'审核通过，任务办结' if approved else '退回重办'}。",
        f"意见：{_short(note)}" if note else "",
    )


def changed(
    action: Action, owner: Unit, settings: Settings, today: date, event: ActionEvent
) -> Message:
    """A timeline event, in words."""
    return _message(
        "任务动态",
        action,
        owner,
        settings,
        today,
        f"{event.signed}：{describe_event(event)}",
        f"说明：{_short(event.note)}" if event.note else "",
    )


def describe_event(event: ActionEvent) -> str:
    """What an event did, in one line."""
    kind = label("latest_note" if event.kind == EventKind.progress else event.kind, Lang.zh)
    if event.from_status and event.to_status:
        moved = f"{status_label(Status(event.from_status), Lang.zh)} → "
        return f"{kind}，{moved}{status_label(Status(event.to_status), Lang.zh)}"
    if event.kind == EventKind.reminded or not event.changes:
        return kind
    return f"{kind}：" + "；".join(
        _describe_change(field, change) for field, change in event.changes.items()
    )


def _describe_change(field: str, change: Any) -> str:
    if isinstance(change, list) and len(change) == 2:
        before, after = (_shown(value) for value in change)
        return f"{_field_name(field)} {before} → {after}"
    return _field_name(field)


def _field_name(field: str) -> str:
    """A field as the reports head it (the field itself where they have no heading)."""
    try:
        return label(FIELD_LABEL_KEYS.get(field, field), Lang.zh)
    except KeyError:
        return field


def _shown(value: Any) -> str:
    if value is None or value == []:
        return "（空）"
    if isinstance(value, list):
        return "、".join(map(str, value))
    return _short(str(value))


def report(reports: list[Report], schedule: str, settings: Settings) -> Message:
    """A scheduled report was made: its name, period and files."""
    first = reports[0]
    name = CADENCE_LABELS.get(Cadence(schedule), schedule)
    period = f"{first.period_start.isoformat()} 至 {first.period_end.isoformat()}"
    title = f"报表已生成：{name}（{period}）"
    files = [f"- [{r.file_name}]({report_url(settings, r.id)})" for r in reports]
    text = "\n".join([f"**{title}**", f"> 共 {first.row_count} 项任务，文件：", *files])
    return Message(title, text)
