"""The contract between the sheets Tashan writes and the sheets it reads back: reports (XLSX,
CSV and the other formats) head their columns with these labels, in Chinese or English, mark
the columns a unit may fill in and guard text against being read as a formula; an import
finds the columns by the same labels, and takes the guard off again."""

from enum import StrEnum

from app.actions.workflow import STATUS_LABELS, Status


class Lang(StrEnum):
    """The language of headings and labels."""

    zh = "zh"
    en = "en"


# The sheet an import reads (明细 / Actions), by its label key.
ACTIONS_SHEET = "actions"
# The columns of a round trip (export, fill in, upload to /api/v1/imports), by label key: id
# and version say which action, and which state of it, a row was filled in against; a unit
# fills in the editable ones. A sheet may carry others (title, owner, …), which are ignored.
IDENTITY_KEYS = ("id", "version")
EDITABLE_KEYS = ("status", "progress", "assignee", "due_on", "co_owners", "leader", "new_note")
# Separates the names of cooperating units in a cell: 、 as the export writes them, and the
# commas and semicolons (ASCII or full-width) and line breaks people type instead.
CO_OWNER_SEPARATORS = "、,，;；\n"
# Ends the heading of an editable column; an import takes it off to find the column's label.
EDIT_MARK = " ✎"

# Every heading and label of a report, by key: (Chinese, English).
_LABELS: dict[str, tuple[str, str]] = {
    # document and sheets
    "title": ("事项推进情况报告", "Action status report"),
    "overview": ("概览", "Overview"),
    "ranking": ("排名", "Ranking"),
    "actions": ("明细", "Actions"),
    "overdue_sheet": ("逾期", "Overdue"),
    "changes": ("动态", "Changes"),
    "chart_title": ("各单位完成率", "Completion rate by unit"),
    # headline
    "period": ("统计期间", "Period"),
    "as_of": ("数据截至", "Figures as of"),
    "generated_at": ("生成时间", "Generated at"),
    "filters": ("筛选条件", "Filters"),
    "total": ("事项总数", "Actions"),
    "completed": ("已完成", "Completed"),
    "completion_rate": ("完成率", "Completion rate"),
    "average_progress": ("平均进度", "Average progress"),
    "overdue": ("逾期", "Overdue"),
    "stale": ("久未更新", "Stale"),
    "created_in_period": ("本期新增", "New in period"),
    "changed_in_period": ("本期有变动", "Changed in period"),
    "by_status": ("按状态", "By status"),
    "count": ("数量", "Count"),
    "now": ("当前", "now"),
    "none": ("无", "none"),
    # action lines
    "id": ("编号", "ID"),
    "version": ("版本", "Version"),
    "action": ("事项", "Action"),
    "owner": ("责任单位", "Owner"),
    "lead_unit": ("牵头单位", "Lead unit"),
    "co_owners": ("配合单位", "Cooperating units"),
    "leader": ("责任领导", "Leader"),
    "start_on": ("开始日期", "Start"),
    "status": ("状态", "Status"),
    "priority": ("优先级", "Priority"),
    "high": ("高", "High"),
    "medium": ("中", "Medium"),
    "low": ("低", "Low"),
    "progress": ("进度", "Progress"),
    "due_on": ("截止日期", "Due"),
    "original_due_on": ("原定完成时限", "Original due"),
    "extension_count": ("延期次数", "Extensions"),
    "expected_progress": ("序时进度", "Expected progress"),
    "light": ("红黄绿灯", "Light"),
    "lights": ("红黄绿灯", "Lights"),
    "light_green": ("绿灯", "green"),
    "light_yellow": ("黄灯", "yellow"),
    "light_red": ("红灯", "red"),
    "red_count": ("红灯", "Red"),
    "is_overdue": ("是否逾期", "Overdue"),
    "assignee": ("责任人", "Assignee"),
    "themes": ("主题", "Themes"),
    "evidence_files": ("佐证材料", "Evidence"),
    "latest_note": ("最新进展", "Latest note"),
    "progress_update": ("进展", "progress update"),
    "source": ("来源", "Source"),
    "speech": ("发言", "Speech"),
    "due_before": ("截止早于", "Due before"),
    "due_after": ("截止晚于", "Due after"),
    "updated_since": ("更新晚于", "Updated since"),
    "search": ("关键词", "Search"),
    "include_archived": ("含已归档", "Archived included"),
    "new_note": ("本次进展", "New note"),
    "quote": ("原文摘录", "Source quote"),
    "updated_at": ("更新时间", "Updated"),
    # filling in a sheet and uploading it back
    "edit_hint": (
        "明细表中标 ✎ 的列可填写，填好后上传 /api/v1/imports",
        "Fill in the columns marked ✎ on the Actions sheet, then upload it to /api/v1/imports",
    ),
    "status_prompt": ("从列表中选择状态", "Pick a status from the list"),
    "progress_prompt": (
        "填 0 到 100 的整数（不带 %），如 40 表示 40%",
        "A whole number from 0 to 100 (no %), e.g. 40 for 40%",
    ),
    "due_on_prompt": (
        "填日期，格式 yyyy-mm-dd，如 2026-12-31",
        "A date as yyyy-mm-dd, e.g. 2026-12-31",
    ),
    "co_owners_prompt": (
        "填单位全称，多个单位用、分隔；牵头单位不填在这里；留空表示没有配合单位",
        "Units' full names, separated by 、; not the lead unit; empty for none",
    ),
    "invalid_entry": ("填写有误", "Not a valid entry"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "field_title": ("标题", "Title"),
    "field_detail": ("说明", "Detail"),
    # ranking
    "rank": ("排名", "Rank"),
    "unit": ("单位", "Unit"),
    "in_progress": ("推进中", "In progress"),
    "submitted": ("待审核", "Submitted"),
    "blocked": ("受阻", "Blocked"),
    # changes
    "at": ("时间", "When"),
    "actor": ("操作人", "By"),
    "kind": ("类型", "Kind"),
    "summary": ("变更", "Change"),
    "note": ("说明", "Note"),
    "created": ("新建", "created"),
    "updated": ("修改", "updated"),
    "transition": ("状态变更", "status change"),
    "archived": ("归档", "archived"),
    "evidence": ("佐证材料", "evidence"),
    "extension_requested": ("申请延期", "extension requested"),
    "extension_decided": ("延期审批", "extension decided"),
    "reminded": ("催办", "reminder"),
}

ENGLISH_STATUS = {
    Status.proposed: "Proposed",
    Status.accepted: "Accepted",
    Status.in_progress: "In progress",
    Status.submitted: "Submitted",
    Status.blocked: "Blocked",
    Status.completed: "Completed",
    Status.declined: "Declined",
}


def label(key: str, lang: Lang) -> str:
    """The heading for key in lang."""
    zh, en = _LABELS[key]
    return zh if lang == Lang.zh else en


def status_label(status: Status, lang: Lang) -> str:
    """A status as a reader of lang reads it."""
    return STATUS_LABELS[status] if lang == Lang.zh else ENGLISH_STATUS[status]


# A spreadsheet reads a cell starting with one of these as a formula (OWASP CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MAYBE_GUARDED = (*FORMULA_STARTS, "'")


def is_formula_like(value: str) -> bool:
    """Whether a spreadsheet would read this text as a formula."""
    return value.startswith(FORMULA_STARTS)


def guard(value: str) -> str:
    """Text a spreadsheet shows as text (OWASP CSV injection): a leading quote before
    formula-like text, and before text that only looks guarded ('=x becomes ''=x), so that
    unguard gives every text back exactly."""
    if not value.startswith(MAYBE_GUARDED):  # most text, answered without stripping quotes
        return value
    return f"'{value}" if is_formula_like(value.lstrip("'")) else value


def unguard(value: str) -> str:
    """The text guard was given: one leading quote off a guarded text. A quote a person
    typed before a formula-like text is read the same way, as spreadsheets do."""
    guarded = value.startswith("'") and is_formula_like(value.lstrip("'"))
    return value[1:] if guarded else value
