"""Finding who speaks where in a report-back article (挂职汇报会, 考察学习报告): sections
under a heading with a byline ("### 党建引领 …" then "区科技创新局 谢纳"), paragraphs that open
with a byline ("区经济发展局 高健：…"), and a leader's remarks reported in the news
("对此，凌兵奎强调，…"), interviews ("祁明远：…", "答：…"), a unit's own paragraph ("一、区财政局：
…", "区财政局建议，…"), each speaker's unit taken from the byline or from where the article
introduces them ("区党工委副书记凌兵奎", "祁明远，区科技创新局副局长", "区商务局负责同志说"),
never a reporter nor the officials of the place visited."""

import bisect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from app.sources.candidates import visited_places
from app.sources.layout import (
    CJK,
    PRESS,
    TITLE,
    UNIT_NAME,
    UNIT_SUFFIX,
    ZONE_UNIT,
    Line,
    byline_of,
    heading_of,
    is_government_unit,
    lines,
    prose_span,
)
from app.units.models import UnitKind

TITLES = re.compile(TITLE)
# A verb that says someone speaks ("王立群说", "在总结讲话中指出", "谈了三点体会").
SPEECH_VERB = (
    r"(?:说(?![明法服])|表示|认为|介绍|指出|建议|谈到|谈了|谈及|谈道|提到|强调|提出|要求|希望|坦言|"
    r"直言|感慨|分享|讲道|透露|呼吁|建言|补充|提醒|看来|接过话[题茬筒头]|(?:深有|颇有)?感触|"
    r"深有(?:体会|感悟)|"
    r"的(?:发言|汇报|体会|看法|观点)(?:是|中|里|重点|聚焦|集中|围绕|认为|指出|提到))"
)
# What may follow a person's name where an article introduces them.
AFTER_NAME = re.compile(
    r"(?:首先|随后|接着|率先|第一个|也|还|则)?(?:[，。、；：:,（(“《\s]|$|以|就|作|做|在|对|为|讲|结合|汇报|"
    rf"发言|主持|出席|参加|围绕|代表|同志|祝贺|感谢|带队|一行|率|等|[和与及](?=[{CJK}])|{SPEECH_VERB})"
)
NOT_NAME_START = set("在对就以为向和与的是们等将把从")
UNIT_LEAD_WORDS = re.compile(
    r"^(?:会上|上午|下午|晚上|随后|最后|其中|同时|此外|由|和|与|及|是|为|请|来自|在|据|作为)+"
)
# Words before a unit's name in the same clause: "随后发言的区生态环境分局", "座谈会由新区党工委"
# (never the 由 of 自由贸易区).
BEFORE_UNIT = re.compile(r"^.*[的了]|^[^由]{1,6}?(?<!自)由")
UNIT_ENDS = re.compile(UNIT_SUFFIX)
# A person named before another unit in the same clause: "区统计局局长林晓东和区商务局…".
PERSON_BEFORE = re.compile(rf"{TITLE}[{CJK}]{{2,3}}(?:和|与|及|以及)")
# What follows a unit's name and is no person: "园区企业表示", "区商务局负责人说".
NOT_PERSON = re.compile(rf"企业|群众|干部|人员|同志|代表|负责|相关|有关|方面|领导|{TITLE}")
# "祁明远，区科技创新局副局长，…" in a list of who takes part, after a colon or a semicolon.
APPOSITION = re.compile(
    rf"(?:^|(?<=[：:；;。]))[ \u3000]*(?P<name>[{CJK}]{{2,3}})[，,](?P<unit>{UNIT_NAME})"
    rf"[^，。；,;：:]{{0,8}}?{TITLE}(?=[，。；,;：:）)]|$)"
)
# "王丽系区商务局副局长", "王丽现任区商务局副局长".
NAME_IS = re.compile(
    rf"(?:^|(?<=[，。；：、\s“”]))(?P<name>[{CJK}]{{2,3}})(?:系|现任)(?P<unit>{UNIT_NAME})"
    rf"[^，。；,;：:]{{0,8}}?{TITLE}"
)
NOT_A_NAME = re.compile(
    r"其中|同时|此外|另外|目前|当前|近年|今年|去年|明年|首先|其次|再次|最后|会上|随后|对此|为此|"
    r"因此|但是|然而|所以|如今|眼下|下一步|之后|此前|随即|据悉"
)
# An unnamed official speaking for their unit: "区商务局负责同志说", "区科技局主要负责人表示".
UNNAMED = re.compile(r"(?:有关|相关|一位|的)?(?:主要)?负责(?:同志|人)")
# The meeting as a whole speaking, its chair's words: "会议指出", "会上，会议要求".
MEETING_SAYS = re.compile(
    r"^(?:[^，。！？]{0,8}[，,])?(?:会议|座谈会|交流会|汇报会|推进会)"
    r"(?:指出|强调|要求|认为|提出|明确|号召|希望)"
)
CHAIRS = r"(?:出席并|作为)?主持"
# A government unit speaking at a paragraph's start: "区财政局建议，…", "会上，区商务局表示，…".
UNIT_SAYS = re.compile(
    rf"^(?:[^，。！？]{{0,6}}[，,])?(?P<unit>{UNIT_NAME})(?:还|也|则)?"
    r"(?:建议|提出|表示|认为|提议)[，,：:]"
)
# The participants of a meeting speaking as one: "与会人员一致认为", "与会代表建议".
COLLECTIVE = re.compile(
    rf"(?:与会(?:人员|同志|代表|者)|(?:考察|学习|调研)[组团]成员)(?=(?:还|也|一致|普遍)*{SPEECH_VERB})"
)
DELEGATION = re.compile(r"考察团|考察组|学习团|调研组|代表团")
# What ends a unit named as a sentence's subject ("区住建局此次派出…"), never a 乡 or 所 inside.
SUBJECT_UNIT_END = re.compile(r"(?:局|委|办|中心|管委会|办公室|集团|公司|园区|街道|部)$")
MAX_SUBJECT_UNIT = 12
NO_NAME = r"(?!)"  # a pattern matching nothing
# An interviewer's question between a speaker's answers: "问：…", "记者：…".
QUESTION = re.compile(r"^(?:问|记者|主持人)[ \u3000]*[：:]")
# An answer without a name: the person the question addresses ("祁局长，…") or the one person
# the article introduces.
ANSWER = re.compile(r"^答[ \u3000]*[：:]")
ADDRESSED = re.compile(
    rf"(?P<surname>[{CJK}])(?:局长|主任|科长|书记|处长|部长|区长|县长|市长|站长|所长|院长|总)"
)
NAME_THEN_UNIT = re.compile(
    rf"(?:^|(?<=[，。；：、\s“”]))(?P<name>[{CJK}]{{2,3}})[（(](?P<unit>{UNIT_NAME})(?:{TITLE})?[）)]"
)
# The government a bare post stands for: "区委副书记、区长邵海" holds a post of 区政府.
IMPLIED_UNITS = {"区长": "区政府", "县长": "县政府", "市长": "市政府", "镇长": "镇政府"}
UNIT_MARK = re.compile(UNIT_NAME)
# Between a speaker's name and the verb: "在发言中", "结合园区实际" (no punctuation).
TO_VERB = r"[^，。！？；：,;:“”\n]{0,12}?"
# A speech goes on in a paragraph that opens with 他/她 and a verb, or with an enumeration
# of a leader's points ("二要…", "其次，…").
# He, she, or the official just named: "该负责同志".
THIRD_PERSON = r"(?:[他她]|该(?:负责)?(?:同志|人)|该[局委办]|该中心)"
PRONOUN_SAYS = rf"{THIRD_PERSON}(?:还|也|同时|随后|最后|进一步|接着)?{SPEECH_VERB}"
GOES_ON = re.compile(
    rf"^(?:(?:[^，。！？“”]{{1,15}}[，,])?{PRONOUN_SAYS}|据[他她]介绍|"
    r"[一二三四五六七八九十][要是]|第[一二三四五六七八九十][，、,]|首先|其次|再次|最后[，,])"
)
# A leader's remarks: where a speech opens with these, its asks are directives.
LEADER_CUE = re.compile(
    r"讲话|强调|要求|部署|(?:党工委|管委会|区委|区政府|党委|政府)(?:常务)?副?(?:书记|主任|区长)"
)
SENTENCE_ENDS = "。！？!?…”」』）)"
# The article's own zone as its news lead names it: "本报讯 6月15日，青溪经开区召开…".
HOME_ZONE = re.compile(
    rf"(?P<zone>[{CJK}]{{2,10}}?(?:高新区|经开区|开发区|新区|园区|区|县|市))(?:召开|举行|举办)"
)
HOME_ZONE_WITHIN = 12  # lines from the top where the news lead names it
# What a speaker says and a reporter does not: the first person, an ask.
SPEAKER_VOICE = re.compile(r"我|建议|要|应当|需要|必须")
# A paragraph that goes on with a speaker's own words after a byline within a paragraph.
FIRST_PERSON = re.compile(r"^(?:[^，。！？“”：:]{0,10}[，,])?(?:我们|我区|我)(?!.*[？?]$)")
# A report's closing signature: "（作者系区市场监管局副局长 陈卓）".
# …or just the unit and the name, apart: "（区工信局 钟瀚）".
SIGNATURE = re.compile(
    rf"^[（(](?P<by>(?:作者|发言人)(?:系|为|：|:)?)?(?P<unit>{UNIT_NAME})(?:{TITLE})?"
    rf"(?P<gap>[ \u3000]*)(?P<name>[{CJK}]{{2,4}})[）)]$"
)
# A section opened by a byline without a heading ends at any heading; one opened by a
# byline within a paragraph ends with that paragraph.
NO_LEVEL = 7
INLINE = 8
MAX_REMARK_LEAD = 40
MAX_UNIT_LEAD = 48  # a unit's name and the words before it in its clause
NAME_WINDOW = 24  # a name, spaces before it and what follows it
OPENING_SENTENCES = 4  # a paragraph's speaker is named within its first sentences
SIGNATURE_WITHIN = 4  # non-blank lines from the top where a report's signing unit may be


@dataclass(frozen=True)
class FoundSpeech:
    """A speech found in a text: [start, end) in code points; unit is the name the article
    gives (None when it gives none), other_units the other posts it names for the speaker
    ("区党工委副书记、管委会主任": 区党工委, then 管委会); remarks: a leader's remarks, whose
    asks are directives."""

    heading: str
    speaker: str
    unit: str | None
    start: int
    end: int
    remarks: bool = False
    other_units: tuple[str, ...] = ()

    @property
    def units(self) -> tuple[str, ...]:
        return (self.unit, *self.other_units) if self.unit else self.other_units


People = dict[str, tuple[str, ...]]  # a person's name → the units the article gives them


def introductions(text_lines: Sequence[Line], places: Iterable[str] = ()) -> People:
    """Each person the article introduces with a unit and title ("沙河产业园区副主任马骏",
    "来自区市场监管局的李婉清", "祁明远，区科技创新局副局长"), or by a byline, with their
    units, the first introduction's first; an unnamed official by their unit and role
    ("区商务局负责同志"), the participants of a meeting as one ("与会人员", of the delegation
    the article names). Never the officials of the place visited (places: its names)."""
    people: dict[str, list[str]] = {}
    delegation = next(
        (m.group() for line in text_lines if (m := DELEGATION.search(line.text))), None
    )

    def add(name: str, unit: str) -> None:
        units = people.setdefault(name, [])
        if unit not in units:
            units.append(unit)

    for line in text_lines:
        title = heading_of(line)
        byline = byline_of(line) if title is None else _heading_byline(title)
        if byline is not None and byline[1] != byline[0]:  # not a unit's own list item
            add(byline[1], byline[0])
        signature = _signature(line.text)
        if signature:
            add(signature[1], signature[0])
        for name, units in _titled(line.text):
            for unit in units:
                add(name, unit)
        for name, unit in _untitled(line.text):
            add(name, unit)
        for name, unit in _appositions(line.text):
            add(name, unit)
        for match in COLLECTIVE.finditer(line.text):
            people.setdefault(match.group(), [delegation] if delegation else [])
        for match in re.finditer(rf"的(?=[{CJK}]{{2,3}})", line.text):
            owner = _unit_before(line.text, match.start())
            person = _name_after(_window(line.text, match.end()), verb_only=True)
            if owner and person:
                add(person, owner)
    visited = [place for place in places if len(place) >= 2]
    return {
        name: tuple(units)
        for name, units in people.items()
        if not (units and all(unit.startswith(tuple(visited)) for unit in units))
    }


def _appositions(text: str) -> Iterable[tuple[str, str]]:
    """(name, unit) of each "name，unit + title" in a list of who takes part ("参加对话的是：
    祁明远，区科技创新局副局长，…；沈若岚，区投资促进局招商二科科长") and each "name系/现任
    unit + title"."""
    for match in (*APPOSITION.finditer(text), *NAME_IS.finditer(text)):
        name = match.group("name")
        if name[0] not in NOT_NAME_START and not NOT_A_NAME.match(name):
            yield name, match.group("unit")


def _signature(text: str) -> tuple[str, str] | None:
    """(unit, name) of a section's closing signature, never a reporter's."""
    match = SIGNATURE.match(text.strip())
    if match is None or not (match.group("by") or match.group("gap")):
        return None
    return None if PRESS.search(match.group("unit")) else (match.group("unit"), match.group("name"))


def _heading_byline(title: str) -> tuple[str, str, int | None] | None:
    """The byline a heading's title is ("区商务局 王丽：把服务做到企业心坎上"), if it is one."""
    return byline_of(Line(0, len(title), title))


def _untitled(text: str) -> Iterable[tuple[str, str]]:
    """(name, unit) of each "unit + name + a verb of saying" ("区商务局王丽说") and each
    "name（unit + title）" ("王丽（区商务局副局长）说")."""
    for match in UNIT_ENDS.finditer(text):
        if TITLES.match(text, match.start()):  # the 局 of 局长
            continue
        unit = _unit_before(text, match.end())
        name = _name_after(_window(text, match.end()), verb_only=True)
        if unit and name and not (NOT_PERSON.search(name) or re.match(SPEECH_VERB, name)):
            yield name, unit
    for match in NAME_THEN_UNIT.finditer(text):
        yield match.group("name"), match.group("unit")
    for match in UNNAMED.finditer(text):
        unit = _unit_before(text, match.start())
        says = re.match(rf"(?:也|还|则|首先|随后)?{SPEECH_VERB}", _window(text, match.end()))
        if unit and says and is_government_unit(unit):
            yield unit + match.group().removeprefix("的"), unit


def _titled(text: str) -> Iterable[tuple[str, list[str]]]:
    """(name, units) of each "unit + title + name" in text; "区党工委副书记、管委会主任韩立群"
    gives both units, the first first."""
    units: list[str] = []
    last_end = -1
    for match in TITLES.finditer(text):
        unit = _unit_before(text, match.start())
        chained = text[last_end : match.start() - len(unit or "")] == "、"
        if unit is None and chained:  # "区商务局党组书记、局长": still 区商务局
            unit = IMPLIED_UNITS.get(match.group().removeprefix("常务").removeprefix("副"))
            last_end = match.end()
        elif not (unit and chained):
            units = []
            if unit is None:  # "区住建局此次派出…。副局长孙启航…"
                unit = _subject_before(text, match.start())
        if unit:
            units.append(unit)
            last_end = match.end()
        window = _window(text, match.end()).lstrip(" \u3000")
        name = _name_after(window)
        if name is None and unit and window[:1] in "，," and _follows_as(text, match.start(), unit):
            name = _name_after(window[1:])  # "作为区商务局副局长，王丽…"
        if units and name:
            yield name, list(units)


def _follows_as(text: str, title_start: int, unit: str) -> bool:
    """Whether the unit before a title follows 作为 ("作为区商务局副局长，…")."""
    unit_start = title_start - len(unit)
    return text[max(0, unit_start - 2) : unit_start] == "作为"


def _subject_before(text: str, start: int) -> str | None:
    """The unit the sentence ending just before start opens with, when start opens a
    sentence ("区住建局此次派出两名同志参加考察。" → 区住建局)."""
    before = text[max(0, start - MAX_UNIT_LEAD * 2) : start].rstrip(" \u3000")
    if not before or before[-1] not in "。！？":
        return None
    ends = [before.rfind(mark, 0, len(before) - 1) for mark in "。！？"]
    if max(ends) == -1 and start > MAX_UNIT_LEAD * 2:  # the sentence starts out of sight
        return None
    clause = UNIT_LEAD_WORDS.sub("", before[max(ends) + 1 :].lstrip(" \u3000"))
    for length in range(min(MAX_SUBJECT_UNIT, len(clause)), 1, -1):
        unit = clause[:length]
        if SUBJECT_UNIT_END.search(unit) and UNIT_MARK.fullmatch(unit):
            return unit
    return None


def _unit_before(text: str, end: int) -> str | None:
    """The unit name that ends at end, back to the last punctuation, or None."""
    prefix = text[max(0, end - MAX_UNIT_LEAD) : end]
    clause = re.split(r"[^" + CJK + r"（）()·]", prefix)[-1]
    clause = PERSON_BEFORE.split(clause)[-1]
    clause = UNIT_LEAD_WORDS.sub("", BEFORE_UNIT.sub("", clause, count=1))
    return clause if len(clause) >= 2 and UNIT_MARK.fullmatch(clause) else None


def _window(text: str, start: int) -> str:
    """What a name and the words after it may be, from start: a few characters, so that
    looking at every post or unit of a long line stays linear."""
    return text[start : start + NAME_WINDOW]


def _name_after(rest: str, verb_only: bool = False) -> str | None:
    """A two- or three-character name at the start of rest, judged by what follows it (a verb
    of saying, when verb_only)."""
    follows = re.compile(SPEECH_VERB) if verb_only else AFTER_NAME
    for length in (2, 3):
        name = rest[:length]
        if (
            len(name) == length
            and re.fullmatch(f"[{CJK}]+", name)
            and name[0] not in NOT_NAME_START
            and follows.match(rest[length:])
        ):
            return name
    return None


@dataclass(frozen=True)
class _Openers:
    """How a paragraph opens someone's speech, for the people an article introduces."""

    people: People
    names: str  # the names as a regex alternation, longest first
    places: tuple[str, ...] = ()  # the place visited: its names
    chair: str | None = None  # who chairs the meeting the article reports

    def speaker(self, paragraph: str) -> str | None:
        """Who a paragraph opens the speech of (see opening)."""
        found = self.opening(paragraph)
        return found[0] if found else None

    def opening(self, paragraph: str) -> tuple[str, int] | None:
        """Who a paragraph opens the speech of and where in it the speech starts:
        "会议最后，张建明在总结讲话中指出…", "“…。”区财政局局长王立群说", "张建明：…", the
        chair for "会议指出/要求…", a unit for "区财政局建议，…", a sentence after a description
        of the place visited ("当地…。区财政局局长王立群说，…": from that sentence; after other
        sentences, "区住建局此次派出…。副局长孙启航的汇报…", from the paragraph's start), or
        the person its first sentence names when a later one goes on with 他/她
        or the name and a verb ("孙卫东对…给予肯定。他强调…", "…王立群，分享了…。王立群建议…")."""
        colon = re.match(rf"^[*【]*(?P<name>{self.names})[*】]*[ \u3000]*[：:]", paragraph)
        if colon:
            return colon.group("name"), 0
        if self.chair and MEETING_SAYS.match(paragraph):
            return self.chair, 0
        unit = self._unit_says(paragraph)
        if unit:
            return unit, 0
        sentences = _sentences_of(paragraph, OPENING_SENTENCES)
        for said in filter(None, (self._said(sentence) for _, sentence in sentences)):
            offset = next(offset for offset, sentence in sentences if said in sentence)
            described = any(place in paragraph[:offset] for place in self.places)
            return said, offset if described else 0
        named = re.search(self.names, sentences[0][1]) if sentences else None
        if named:
            goes_on = rf"^(?:[^，。！？]{{0,8}}，)?(?:{THIRD_PERSON}|{re.escape(named.group())})"
            for _, sentence in sentences[1:]:
                if re.match(goes_on + rf"{TO_VERB}{SPEECH_VERB}", sentence):
                    return named.group(), 0
        return None

    def answerer(self, paragraph: str, question: str | None, answering: str | None) -> str | None:
        """Who answers in a paragraph opening with 答：, after question: the person it
        addresses ("林局长，…"), else who was answering, else the one person introduced."""
        if not ANSWER.match(paragraph):
            return None
        named = [name for name, units in self.people.items() if units]
        addressed = ADDRESSED.search(question[:MAX_REMARK_LEAD]) if question else None
        if addressed:
            named = [name for name in named if name.startswith(addressed.group("surname"))]
        elif answering:
            return answering
        return named[0] if len(named) == 1 else None

    def _unit_says(self, paragraph: str) -> str | None:
        """The government unit a paragraph opens by saying something ("区财政局建议，…"),
        named as a district's or a zone's (never a bare 管委会, 该局), never the place
        visited's."""
        said = UNIT_SAYS.match(paragraph)
        unit = said.group("unit") if said else None
        if unit is None or not (ZONE_UNIT.match(unit) and is_government_unit(unit)):
            return None
        return None if any(unit.startswith(p) for p in self.places if len(p) >= 2) else unit

    def _said(self, sentence: str) -> str | None:
        """The known person a sentence opens by saying something, after a quote or a short
        lead ("对此，", "在区财政局局长王立群看来")."""
        lead = sentence[:MAX_REMARK_LEAD]
        if sentence.startswith("“") and "”" in sentence:
            after = sentence.index("”") + 1
            lead = sentence[after : after + MAX_REMARK_LEAD]
        said = re.search(rf"(?P<name>{self.names}){TO_VERB}{SPEECH_VERB}", lead)
        return said.group("name") if said else None

    def goes_on(self, paragraph: str, speaker: str) -> bool:
        """Whether a paragraph goes on with the speech of speaker: 他/她 and a verb, the name
        and a verb, a quote they are said to say, the next point of an enumeration."""
        if GOES_ON.match(paragraph) or self.speaker(paragraph) == speaker:
            return True
        quoted = re.match(r"^“[^”]*”[，,]?(?:[他她]|" + re.escape(speaker) + ")", paragraph)
        return quoted is not None

    def is_leader(self, speaker: str, opening: str) -> bool:
        """Whether a speech is a leader's remarks: it opens with 讲话/强调/要求, or its speaker
        holds a post of a 党工委/管委会."""
        units = self.people.get(speaker, (speaker,))  # else a unit speaking
        committee = any(guess_unit_kind(unit) == UnitKind.committee for unit in units)
        return committee or LEADER_CUE.search(opening[:80]) is not None


def _sentences_of(paragraph: str, most: int) -> list[tuple[int, str]]:
    """The first sentences of a paragraph (at most most of them) with their offsets, a quote
    kept whole."""
    found: list[tuple[int, str]] = []
    start = depth = 0
    for index, char in enumerate(paragraph):
        if char in "“「":
            depth += 1
        elif char in "”」":
            depth = max(0, depth - 1)
        elif char in "。！？" and depth == 0:
            found.append((start, paragraph[start : index + 1]))
            start = index + 1
            if len(found) == most:
                return found
    if paragraph[start:].strip():
        found.append((start, paragraph[start:]))
    return found


def _openers(people: People, places: Iterable[str], text_lines: list[Line]) -> _Openers:
    """The openers of the people an article introduces (no name when it introduces none:
    units may still speak) and of who chairs its meeting."""
    if not people:
        return _Openers(people, NO_NAME, tuple(places))
    names = "|".join(re.escape(n) for n in sorted(people, key=len, reverse=True))
    head = [line.text for line in text_lines if not line.blank][:HOME_ZONE_WITHIN]
    chairs = (re.search(rf"(?P<name>{names}){CHAIRS}", line) for line in head)
    chair = next((found.group("name") for found in chairs if found), None)
    return _Openers(people, names, tuple(places), chair)


def detect_speeches(text: str) -> list[FoundSpeech]:
    """The speeches of text in text order, none overlapping another."""
    text_lines = list(lines(text))
    places = visited_places(text)
    people = introductions(text_lines, places)
    openers = _openers(people, places, text_lines)
    sections = sorted(_sections(text_lines, openers, _home_zone(text_lines)), key=_start)
    remarks = _remarks(text_lines, sections, openers)
    found = sorted([*sections, *remarks], key=_start)
    return found or _signed_report(text_lines)


def _start(speech: FoundSpeech) -> int:
    return speech.start


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


def _ends_sentence(line: Line) -> bool:
    """Whether a prose line ends a sentence (else the sentence goes on after a layout break:
    a caption or blank lines inside it)."""
    stripped = line.text.rstrip()
    return not stripped or stripped[-1] in SENTENCE_ENDS


def _found(heading: str, speaker: str, units: Sequence[str], start: int, end: int) -> FoundSpeech:
    first = units[0] if units else None
    return FoundSpeech(heading, speaker, first, start, end, False, tuple(units[1:]))


@dataclass
class _OpenSection:
    heading: str
    speaker: str
    unit: str
    start: int
    end: int
    level: int


def _stripped_start(line: Line) -> int:
    return line.start + len(line.text) - len(line.text.lstrip())


def _home_zone(text_lines: list[Line]) -> str | None:
    """The name the news lead gives the article's own zone ("青溪经开区召开…"), if it has one."""
    head = [line.text for line in text_lines if not line.blank][:HOME_ZONE_WITHIN]
    found = next((m for text in head if (m := HOME_ZONE.search(text))), None)
    return found.group("zone") if found else None


def _reporter_says(paragraph: str, zone: str | None) -> bool:
    """Whether a paragraph is the reporter's, not a speaker's: it opens on the zone by its
    name ("近年来，青溪经开区…") and says neither 我 nor an ask."""
    return (
        zone is not None
        and zone in paragraph[: len(zone) + 8]
        and not SPEAKER_VOICE.search(paragraph)
    )


def _sections(text_lines: list[Line], openers: _Openers, zone: str | None) -> list[FoundSpeech]:
    """Speeches opened by a byline, from the heading just above it when there is one, to the
    last prose line before the next speech, a heading of the same or a higher level, or
    another person's remarks; a byline within a paragraph ("高健：…") opens a speech of that
    paragraph alone (and of the lines its last sentence goes on to after a layout break). A
    section signed at its end ("（作者系区市场监管局副局长 陈卓）") is that person's speech,
    from its heading to the signature."""
    found: list[FoundSpeech] = []
    current: _OpenSection | None = None
    heading: tuple[str, int, int] | None = None  # title, start, level of the last heading
    unsigned: tuple[str, int] | None = None  # a heading with prose and no byline yet
    sentence_open = False

    def close() -> None:
        nonlocal current
        if current is not None and current.end > current.start:
            others = openers.people.get(current.speaker, ())
            found.append(
                _found(
                    current.heading,
                    current.speaker,
                    [current.unit, *(u for u in others if u != current.unit)],
                    current.start,
                    current.end,
                )
            )
        current = None

    for line in text_lines:
        title = heading_of(line)
        if title is not None:
            level = len(line.text.strip()) - len(line.text.strip().lstrip("#"))
            if current is not None and level <= current.level:
                close()
            titled = _heading_byline(title)
            if titled is not None:  # "### 区商务局 王丽：把服务做到企业心坎上"
                close()
                unit, name, _ = titled
                start, end = _stripped_start(line), line.start + len(line.text.rstrip())
                current = _OpenSection(title, name, unit, start, end, level)
                heading = unsigned = None
                continue
            heading = (title, _stripped_start(line), level)
            unsigned = None
            continue
        signature = _signature(line.text)
        if signature and unsigned is not None and current is None:
            unit, name = signature
            found.append(
                _found(unsigned[0], name, [unit], unsigned[1], line.start + len(line.text.rstrip()))
            )
            unsigned = None
            continue
        byline = byline_of(line)
        if byline is not None:
            close()
            unit, name, inline = byline
            if heading is not None:
                current = _OpenSection(heading[0], name, unit, heading[1], line.end, heading[2])
            else:
                level = INLINE if inline is not None else NO_LEVEL
                start = _stripped_start(line)
                current = _OpenSection(f"{unit} {name}", name, unit, start, line.end, level)
            current.end = line.start + len(line.text.rstrip())
            heading = unsigned = None
            sentence_open = inline is not None and not _ends_sentence(line)
            continue
        span = prose_span(line)
        if span is None:
            continue
        if heading is not None and current is None:
            unsigned = (heading[0], heading[1])
        heading = None
        paragraph = line.text[span[0] - line.start :]
        speaker = openers.speaker(paragraph)
        if speaker is not None:
            unsigned = None
        if (
            current is not None
            and not sentence_open
            and (
                (current.level == INLINE and not FIRST_PERSON.match(paragraph))
                or speaker not in (None, current.speaker)
                or (current.level == NO_LEVEL and _reporter_says(paragraph, zone))
            )
        ):
            close()
        if current is not None:
            current.end = span[1]
        sentence_open = not _ends_sentence(line)
    close()
    return found


def _remarks(
    text_lines: list[Line], sections: list[FoundSpeech], openers: _Openers
) -> list[FoundSpeech]:
    """A known person's speech outside the sections, as the news reports it ("对此，凌兵奎强调，
    …", "来自区市场监管局的李婉清说，…"): the paragraph, and the paragraphs right after it that
    go on with 他/她 and a verb, the name and a verb, or the next point of an enumeration (and
    the lines a sentence goes on to after a layout break)."""
    found: list[FoundSpeech] = []
    current: list[int] | None = None  # start, end
    speaker = ""
    opening = ""
    sentence_open = False
    question: str | None = None  # the last interviewer's question
    starts = [section.start for section in sections]

    def close() -> None:
        nonlocal current
        if current is not None:
            units = openers.people.get(speaker, (speaker,))  # else a unit speaking
            speech = _found(f"{speaker}讲话", speaker, units, current[0], current[1])
            found.append(replace(speech, remarks=openers.is_leader(speaker, opening)))
        current = None

    for line in text_lines:
        span = prose_span(line)
        if span is None:
            if heading_of(line) is not None or (not line.blank and not sentence_open):
                close()
            continue
        if _within(sections, starts, span[0]):
            close()
            continue
        paragraph = line.text[span[0] - line.start :]
        if QUESTION.match(paragraph):
            question = paragraph
            if current is not None:  # the answer may go on after it
                sentence_open = not _ends_sentence(line)
                continue
        answerer = openers.answerer(paragraph, question, speaker if current else None)
        opener = openers.opening(paragraph) or ((answerer, 0) if answerer else None)
        name = opener[0] if opener else None
        if current is not None and (
            sentence_open
            or name == speaker
            or (name is None and openers.goes_on(paragraph, speaker))
        ):
            current[1] = span[1]
        else:
            close()
            if opener:
                speaker, opening = opener[0], paragraph[opener[1] :]
                current = [span[0] + opener[1], span[1]]
        sentence_open = not _ends_sentence(line)
    close()
    return found


def _within(speeches: Sequence[FoundSpeech], starts: list[int], offset: int) -> bool:
    """Whether offset lies in one of speeches (sorted, not overlapping; starts: theirs)."""
    index = bisect.bisect_right(starts, offset) - 1
    return index >= 0 and offset < speeches[index].end


def is_remarks(text: str, start: int, units: Iterable[str] = ()) -> bool:
    """Whether the speech starting at start is a leader's remarks reported in the news: it
    opens neither with a heading nor with a byline, and with 讲话/强调/要求 or by a speaker
    of a 党工委/管委会."""
    end = text.find("\n", start)
    first = Line(start, len(text) if end == -1 else end, text[start : None if end == -1 else end])
    if heading_of(first) is not None or byline_of(first) is not None:
        return False
    committee = any(guess_unit_kind(unit) == UnitKind.committee for unit in units)
    return committee or LEADER_CUE.search(first.text[:80]) is not None


def resolve_unit(speech: FoundSpeech, existing: Iterable[str]) -> str | None:
    """The existing unit a speech's speaker belongs to: the first of the units the article
    gives them that matches one, else the first unit it gives (None when it gives none)."""
    names = list(existing)
    matched = (match_unit(unit, names) for unit in speech.units)
    return next((name for name in matched if name), speech.unit)


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
