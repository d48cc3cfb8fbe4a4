"""The layout of an article: its lines with their offsets, and which lines are not prose
(headings, photo captions, credits, bylines). Every line break is a layout break: nothing
found in a text ever spans one."""

import re
from collections.abc import Iterator
from dataclasses import dataclass

CJK = r"\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0002ffff"
HAS_CJK = re.compile(f"[{CJK}]")
# The last word of an organisation unit's name (局, 园区, 党工委, …).
UNIT_SUFFIX = (
    r"(?:党工委|管委会|委员会|常委会|办公室|服务中心|中心|园区|产业园|园|工委|局|委|办|集团|公司|"
    r"街道|镇|乡|部|院|所|站|队|协会|商会|学校|银行|政府|人大|政协)"
)
UNIT_NAME = rf"[{CJK}（）()·]{{0,28}}?{UNIT_SUFFIX}"
PERSON_NAME = rf"[{CJK}]{{2,4}}"
# A post after a unit's name: 区商务局副局长 王某.
TITLE = (
    r"(?:常务副|副|[一二三四]级)?(?:党组书记|书记|主任|局长|区长|市长|县长|主席|"
    r"部长|处长|科长|总经理|经理|董事长|镇长|乡长|院长|所长|站长|队长|秘书长|组长|调研员|主任科员|"
    r"负责人|总监|常委(?!会))"
)
# What may open a byline line: a list mark, a dash or an essay's 文/ ("■ 区人社局 张蕾",
# "——区投资促进局 孙一凡", "文/区工信局 钟瀚").
BYLINE_MARK = r"(?:[■□●◆◇▲△★☆▶►▪※]|——?|(?:文|撰文|撰稿|作者)[ \u3000]*[/／|｜:：])?[ \u3000]*"
# An item's number in a list: "一、", "（二）", "3."
LIST_NUMBER = (
    r"(?:[一二三四五六七八九十]{1,3}、|[（(][一二三四五六七八九十]{1,3}[）)]|\d{1,2}[.．、])"
)
# A unit of a district, county, city or zone as a list item's subject ("区财政局", "临港
# 街道"), never a task ("加快建设高新区").
ZONE_UNIT = re.compile(
    rf"(?:区|县|市(?!场)|镇|乡)|[{CJK}]{{0,8}}?(?:开发区|高新区|经开区|新区|街道|镇|乡)"
)
# The last word of a government unit's name, never a company's or a school's.
GOVERNMENT_UNIT_END = re.compile(r"(?:局|委|办|中心|管委会|办公室|党工委|街道|镇|乡|政府|部)$")
NOT_UNIT = re.compile(r"加快|推进|推动|建设|建立|打造|强化|加强|优化|提升|深化|完善|实施|落实|聚焦")
# A unit that reports the news, whose people never speak in it: "区融媒体中心".
PRESS = re.compile(r"融媒体|报社|电视台|广播电视|新闻中心|记者站|通讯社")
BYLINE_TAIL = r"[ \u3000]*(?:[:：][ \u3000]*(?P<rest>.*))?$"
BYLINES = (
    # "区科技创新局 谢纳", "区工信局副局长 周明远：…"
    re.compile(
        rf"^{BYLINE_MARK}(?P<unit>{UNIT_NAME})(?:{TITLE})?[ \u3000]+(?P<name>{PERSON_NAME})"
        + BYLINE_TAIL
    ),
    # "区住建局副局长赵明轩：…" (no space: the colon tells a byline from a sentence)
    re.compile(
        rf"^{BYLINE_MARK}(?P<unit>{UNIT_NAME}){TITLE}(?P<name>{PERSON_NAME})"
        r"[ \u3000]*[:：][ \u3000]*(?P<rest>.*)$"
    ),
    # "高健（区经济发展局）："
    re.compile(
        rf"^{BYLINE_MARK}(?P<name>{PERSON_NAME})[（(](?P<unit>{UNIT_NAME})(?:{TITLE})?[）)]"
        + BYLINE_TAIL
    ),
    # "【区商务局局长 王某】…"
    re.compile(
        rf"^{BYLINE_MARK}【(?P<unit>{UNIT_NAME})(?:{TITLE})?[ \u3000]*(?P<name>{PERSON_NAME})】"
        r"[ \u3000]*[:：]?[ \u3000]*(?P<rest>.*)$"
    ),
    # "【区商务局】…": a unit's own paragraph under its name; the unit is the speaker
    re.compile(rf"^{BYLINE_MARK}【(?P<unit>{UNIT_NAME})】[ \u3000]*[:：]?[ \u3000]*(?P<rest>.*)$"),
    # "一、区财政局：…": a unit's own proposals as a list item; the unit is the speaker
    re.compile(
        rf"^{BYLINE_MARK}{LIST_NUMBER}?[ \u3000]*(?P<unit>{UNIT_NAME})[ \u3000]*[:：][ \u3000]*"
        r"(?P<rest>.+)$"
    ),
)
# A name never ends with a verb of saying ("王某说：" is a sentence).
NOT_NAME_END = re.compile(r"(?:说|讲|道|称|谈|问|答|认为|表示|指出|强调|介绍)$")
HEADING = re.compile(r"^(#{1,6})[ \u3000]+(?P<title>\S.*?)[ \u3000#]*$")
# "三、对策建议", "（一）主要做法": a numbered title line of a report, not prose.
NUMBERED_TITLE = re.compile(
    r"^(?:[一二三四五六七八九十]{1,3}、|[（(][一二三四五六七八九十]{1,3}[）)])[^。！？；，,]{1,20}$"
)
# "高新区挂职人员在…学习观摩 张全 摄", "（图为…）", "图：…"
CAPTION = re.compile(r"(?:[ \u3000](?:摄|摄影|供图|图)|[（(]图[)）]?)$|^图[为：:]|^[（(]?图为")
# "（本报记者 高轶鹏 整理）", "（作者单位：…）", "（责任编辑：…）"
CREDIT = re.compile(r"^[（(][^（）()]*(?:记者|编辑|整理|作者|来源|通讯员)[^（）()]*[)）]$")


@dataclass(frozen=True)
class Line:
    """One line of the text without its line break; start and end are code-point offsets."""

    start: int
    end: int
    text: str

    @property
    def blank(self) -> bool:
        return not self.text.strip()


def lines(text: str) -> Iterator[Line]:
    """Every line of text with its offsets (a CR before the LF is left out)."""
    start = 0
    for match in re.finditer(r"\r?\n|\r", text):
        yield Line(start, match.start(), text[start : match.start()])
        start = match.end()
    yield Line(start, len(text), text[start:])


def heading_of(line: Line) -> str | None:
    """The title of a Markdown heading line ("### 党建引领 集群发展"), else None."""
    match = HEADING.match(line.text.strip())
    return match.group("title") if match else None


def byline_of(line: Line) -> tuple[str, str, int | None] | None:
    """(unit, speaker, where the speech text starts on this line or None) of a byline."""
    stripped = line.text.strip()
    if CAPTION.search(stripped):
        return None
    for pattern in BYLINES:
        match = pattern.match(stripped)
        if match is None or PRESS.search(match.group("unit")):
            continue
        named = match.groupdict().get("name")
        unit = match.group("unit")
        if named is None and not is_government_unit(unit):
            continue
        if not (named and NOT_NAME_END.search(named)):
            lead = len(line.text) - len(line.text.lstrip())
            start = line.start + lead + match.start("rest") if match.group("rest") else None
            return match.group("unit"), named or match.group("unit"), start
    return None


def is_government_unit(name: str) -> bool:
    """Whether a unit's name is a government's (a district's, a zone's, a bureau…), not a
    company's nor a task's ("加快建设高新区")."""
    government = ZONE_UNIT.match(name) or GOVERNMENT_UNIT_END.search(name)
    return bool(government) and not NOT_UNIT.search(name)


def prose_span(line: Line) -> tuple[int, int] | None:
    """Where running Chinese text lies on a line (after an inline byline such as "高健："),
    or None for a blank line, a heading, a caption, a credit or a byline alone."""
    stripped = line.text.strip()
    if (
        not HAS_CJK.search(stripped)
        or heading_of(line) is not None
        or CAPTION.search(stripped)
        or CREDIT.match(stripped)
        or NUMBERED_TITLE.match(stripped)
    ):
        return None
    start = line.start + len(line.text) - len(line.text.lstrip())
    byline = byline_of(line)
    if byline is not None:
        if byline[2] is None:
            return None
        start = byline[2]
    return start, line.start + len(line.text.rstrip())
