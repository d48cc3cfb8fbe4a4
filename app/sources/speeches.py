"""Finding who speaks where in a report-back article (挂职汇报会, 考察学习报告): sections
under a heading with a byline ("### 党建引领 …" then "区科技创新局 谢纳"), paragraphs that open
with a byline ("区经济发展局 高健：…"), and a leader's remarks reported in the news
("对此，凌兵奎强调，…"), each speaker's unit taken from the byline or from where the article
introduces them ("区党工委副书记凌兵奎")."""

import re
from collections.abc import Iterable
from dataclasses import dataclass

from app.sources.layout import (
    CJK,
    UNIT_NAME,
    Line,
    byline_of,
    heading_of,
    lines,
    prose_span,
)
from app.units.models import UnitKind

TITLE = re.compile(
    r"(?:常务副|副)?(?:书记|主任|局长|区长|市长|县长|主席|部长|处长|科长|"
    r"总经理|经理|董事长|镇长|乡长|院长|所长|站长|队长|秘书长|组长|调研员)"
)
# What may follow a person's name where an article introduces them.
AFTER_NAME = re.compile(
    r"[，。、；：:,（(“《\s]|$|以|就|作|在|对|为|说|讲|强调|指出|要求|表示|提出|希望|祝贺|感谢|"
    r"介绍|汇报|分享|发言|主持|出席|参加|围绕|结合|代表|同志|带队|一行|率|等"
)
NOT_NAME_START = set("在对就以为向和与的是们等将把从")
UNIT_LEAD_WORDS = re.compile(
    r"^(?:会上|上午|下午|晚上|随后|最后|其中|同时|此外|由|和|与|及|是|为|请)+"
)
REMARK_VERBS = (
    r"(?:在讲话中|在会上|在总结时|最后|还|同时|也)?(?:强调|指出|要求|表示|提出|希望|说|讲道)"
)
UNIT_MARK = re.compile(UNIT_NAME)
# A section opened by a byline without a heading ends at any heading; one opened by a
# byline within a paragraph ends with that paragraph.
NO_LEVEL = 7
INLINE = 8
MAX_REMARK_LEAD = 24
SIGNATURE_WITHIN = 4  # non-blank lines from the top where a report's signing unit may be


@dataclass(frozen=True)
class FoundSpeech:
    """A speech found in a text: [start, end) in code points; unit is the name the article
    gives (None when it gives none); remarks is a leader's remarks reported in the news."""

    heading: str
    speaker: str
    unit: str | None
    start: int
    end: int
    remarks: bool = False


def introductions(text_lines: Iterable[Line]) -> dict[str, str]:
    """Each person the article introduces with a unit and title ("沙河产业园区副主任马骏"),
    or by a byline, with that unit; the first introduction counts."""
    people: dict[str, str] = {}
    for line in text_lines:
        byline = byline_of(line)
        if byline is not None:
            people.setdefault(byline[1], byline[0])
        first: tuple[int, str] | None = None  # where a title ended, its unit
        for match in TITLE.finditer(line.text):
            unit = _unit_before(line.text[: match.start()])
            if unit and first and line.text[first[0] : match.start() - len(unit)] == "、":
                unit = first[1]  # "区党工委副书记、管委会主任韩立群": the first unit
            name = _name_after(line.text[match.end() :])
            if unit and name:
                people.setdefault(name, unit)
            first = (match.end(), unit) if unit else None
    return people


def _unit_before(prefix: str) -> str | None:
    """The unit name that ends prefix, back to the last punctuation, or None."""
    clause = re.split(r"[^" + CJK + r"（）()·]", prefix)[-1]
    clause = UNIT_LEAD_WORDS.sub("", clause)
    return clause if len(clause) >= 2 and UNIT_MARK.fullmatch(clause) else None


def _name_after(rest: str) -> str | None:
    """A two- or three-character name at the start of rest, judged by what follows it."""
    for length in (2, 3):
        name = rest[:length]
        if (
            len(name) == length
            and re.fullmatch(f"[{CJK}]+", name)
            and name[0] not in NOT_NAME_START
            and AFTER_NAME.match(rest[length:])
        ):
            return name
    return None


def detect_speeches(text: str) -> list[FoundSpeech]:
    """The speeches of text in text order, none overlapping another."""
    text_lines = list(lines(text))
    people = introductions(text_lines)
    names = "|".join(re.escape(name) for name in sorted(people, key=len, reverse=True))
    opens = re.compile(f"(?P<name>{names}){REMARK_VERBS}") if people else None
    sections = _sections(text_lines, opens)
    remarks = _remarks(text_lines, people, sections, opens) if opens else []
    found = sorted([*sections, *remarks], key=lambda speech: speech.start)
    return found or _signed_report(text_lines)


def _signed_report(text_lines: list[Line]) -> list[FoundSpeech]:
    """A report signed by a unit under its title ("关于…的报告" then "区科技创新局"): one
    speech of that unit, from the signature to the last prose line."""
    head = [line for line in text_lines if not line.blank][:SIGNATURE_WITHIN]
    signature = next((line for line in head if UNIT_MARK.fullmatch(line.text.strip())), None)
    if signature is None:
        return []
    ends = [
        span[1] for line in text_lines if (span := prose_span(line)) and span[0] > signature.start
    ]
    if not ends:
        return []
    unit = signature.text.strip()
    start = signature.start + len(signature.text) - len(signature.text.lstrip())
    title = next((line.text.strip() for line in head if line.start < signature.start), unit)
    return [FoundSpeech(title[:200], unit, unit, start, ends[-1])]


def _opens_remarks(opens: re.Pattern[str] | None, paragraph: str) -> str | None:
    """The speaker whose remarks a paragraph opens with ("对此，凌兵奎强调，…"), if any."""
    match = opens.search(paragraph[:MAX_REMARK_LEAD]) if opens else None
    return match.group("name") if match else None


@dataclass
class _OpenSection:
    heading: str
    speaker: str
    unit: str
    start: int
    end: int
    level: int


def _sections(text_lines: list[Line], opens: re.Pattern[str] | None) -> list[FoundSpeech]:
    """Speeches opened by a byline, from the heading just above it when there is one, to the
    last prose line before the next speech, a heading of the same or a higher level, or
    another person's remarks; a byline within a paragraph ("高健：…") opens a speech of that
    paragraph alone."""
    found: list[FoundSpeech] = []
    current: _OpenSection | None = None
    heading: tuple[str, int, int] | None = None  # title, start, level of the last heading

    def close() -> None:
        nonlocal current
        if current is not None and current.end > current.start:
            found.append(
                FoundSpeech(
                    current.heading, current.speaker, current.unit, current.start, current.end
                )
            )
        current = None

    for line in text_lines:
        title = heading_of(line)
        if title is not None:
            level = len(line.text.strip()) - len(line.text.strip().lstrip("#"))
            if current is not None and level <= current.level:
                close()
            heading = (title, line.start + len(line.text) - len(line.text.lstrip()), level)
            continue
        byline = byline_of(line)
        if byline is not None:
            close()
            unit, name, inline = byline
            if heading is not None:
                current = _OpenSection(heading[0], name, unit, heading[1], line.end, heading[2])
            else:
                start = line.start + len(line.text) - len(line.text.lstrip())
                level = INLINE if inline is not None else NO_LEVEL
                current = _OpenSection(f"{unit} {name}", name, unit, start, line.end, level)
            current.end = line.start + len(line.text.rstrip())
            heading = None
            continue
        span = prose_span(line)
        if span is None:
            continue
        heading = None
        speaker = _opens_remarks(opens, line.text[span[0] - line.start :])
        if current is not None and (
            current.level == INLINE or speaker not in (None, current.speaker)
        ):
            close()
        if current is not None:
            current.end = span[1]
    close()
    return found


def _remarks(
    text_lines: list[Line],
    people: dict[str, str],
    sections: list[FoundSpeech],
    opens: re.Pattern[str],
) -> list[FoundSpeech]:
    """A known person's remarks outside the sections ("对此，凌兵奎强调，…"): the paragraph,
    and the paragraphs right after it that go on with 他/她 or the name and a verb of
    saying."""
    names = "|".join(re.escape(name) for name in sorted(people, key=len, reverse=True))
    goes_on = re.compile(f"^(?:[他她]|{names}){REMARK_VERBS}")
    found: list[FoundSpeech] = []
    current: list[int] | None = None  # start, end
    speaker = ""
    for line in text_lines:
        span = prose_span(line)
        if span is None:
            if not line.blank and current is not None:
                found.append(_remark(speaker, people, current))
                current = None
            continue
        if any(s.start <= span[0] < s.end for s in sections):
            continue
        paragraph = line.text[span[0] - line.start :]
        if current is not None and goes_on.match(paragraph):
            current[1] = span[1]
            continue
        if current is not None:
            found.append(_remark(speaker, people, current))
            current = None
        opener = _opens_remarks(opens, paragraph)
        if opener:
            speaker, current = opener, [span[0], span[1]]
    if current is not None:
        found.append(_remark(speaker, people, current))
    return found


def _remark(speaker: str, people: dict[str, str], span: list[int]) -> FoundSpeech:
    return FoundSpeech(f"{speaker}讲话", speaker, people.get(speaker), span[0], span[1], True)


def is_remarks(text: str, start: int) -> bool:
    """Whether the speech starting at start is remarks reported in the news: it opens
    neither with a heading nor with a byline."""
    end = text.find("\n", start)
    first = Line(start, len(text) if end == -1 else end, text[start : None if end == -1 else end])
    return heading_of(first) is None and byline_of(first) is None


def match_unit(name: str, existing: Iterable[str]) -> str | None:
    """The existing unit a name in an article means: the same name, else the one unit whose
    name ends with it or that it ends with ("经济发展局" → "区经济发展局")."""
    names = list(existing)
    if name in names:
        return name
    near = [other for other in names if other.endswith(name) or name.endswith(other)]
    return near[0] if len(near) == 1 else None


def guess_unit_kind(name: str) -> UnitKind:
    """A new unit's kind, from the last word of its name."""
    if re.search(r"(?:园区|产业园|开发区|园)$", name):
        return UnitKind.park
    if re.search(r"(?:党工委|工委|管委会|委员会|党委)$", name):
        return UnitKind.committee
    if re.search(r"(?:局|中心|办|办公室|部|委)$", name):
        return UnitKind.bureau
    return UnitKind.other
