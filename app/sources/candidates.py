"""Proposing a text's proposals: cut each prose line into sentences and clauses (。！？；
and 一是/二是 enumerations; never across a line break), keep a short lead sentence with the
sentence it introduces and an example (例如…) with the claim it illustrates, and score each
piece by what makes a proposal in these articles: an ask (建议、要、应、需要), a verb of doing
(加快、推进、建立…), a mechanism (机制、制度、办法), an enumeration, our zone as the subject;
against narrative (我被任命…), figures and news-report phrasing. Rule-based, no model."""

import bisect
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from app.actions.workflow import ActionKind
from app.sources.layout import HAS_CJK, lines, prose_span

# A candidate is kept from this score on.
THRESHOLD = 2
MAX_TITLE = 24
MAX_MERGED = 240

SENTENCE_END = re.compile(r"[。！？!?]+[”’」』）)]*")
ENUMERATION = (
    r"(?:[一二三四五六七八九十]是|[一二三四五六七八九十]要|其[一二三四五六七八九十][，、,]|"
    r"第[一二三四五六七八九十][，、,是]|首先|其次|再次|[（(][一二三四五六七八九十]{1,3}[）)]|"
    r"[一二三四五六七八九十]{1,3}、|\d{1,2}[.．、](?!\d))"
)
ENUMERATION_START = re.compile(ENUMERATION)
# Where a clause is cut: after a semicolon, and before an enumeration marker that follows
# a comma or colon.
CLAUSE_CUT = re.compile(rf"[；;]|(?<=[，,：:])(?={ENUMERATION})")
EXAMPLE_START = re.compile(r"^(?:例如|比如|譬如|诸如|如(?![何果此今期实同若下上是])[^，]{1,12}，)")
LEAD_CLAUSE = re.compile(r"^(?:建议|希望|这就需要|所以|因此|我们要|我们需要|我们应)")

ASK = re.compile(r"建议|希望|倡议|呼吁")
MODAL = re.compile(r"(?<![主重只想需不])要(?![求素点闻害塞是])|需要|应当|应该|必须|务必|亟需|亟待")
VERBS = re.compile(
    r"加快|推进|推动|建立|健全|完善|落实|构建|探索|借鉴|推行|实施|制定|出台|设立|打造|强化|"
    r"加强|提升|提高|优化|深化|发挥|做强|壮大|培育|引导|开展|树立|坚持|扩大|加大|集聚|破解|"
    r"整合|争取|营造|谋划|汇编|摸排|梳理|淘汰|倾斜|补齐|转变|严管|带动|促进|畅通"
)
MECHANISM = re.compile(r"机制|制度|模式|办法|改革|工作法|格局|体系|清单|专班|措施|做法|示范")
OURS = re.compile(r"我区|我们|全区|本区|我市|下一步|今后")
METHOD = re.compile(r"通过|实行|采取|牵头|转化为|以[^，。]{1,20}为(?:主导|核心|抓手|重点|引领)")
EXHORT = re.compile(
    r"积极|进一步|切实|全力|大力|不断|努力|狠下功夫|下功夫|着力|聚焦|注重|确保|主动"
)
LESSON = re.compile(r"学习到|好的措施|好的做法|经验|值得|借鉴|对标|看齐")
NARRATIVE = re.compile(
    r"我(?:被|挂职|主要|先后|随同|查阅|除了|谨记|深切|深刻|觉得|相信|深知|所挂职|的感受|"
    r"此次|这次|的意愿)"
)
NEWS = re.compile(r"召开|出席|主持|作了|进行了|汇报会|本报讯|记者|通讯员|编者按|为题")
FIGURES = re.compile(r"\d+(?:\.\d+)?(?:%|家|人|个|名|亿|万|年|月|日|微克|天)")
PAST = re.compile(r"了")

THEMES: dict[str, re.Pattern[str]] = {
    name: re.compile(words)
    for name, words in {
        "招商引资": r"招商|引资|招大引强|招引|选资|招才",
        "项目审批": r"审批|许可|并联|承诺制|环评|拿地即开工|跑一次",
        "项目建设": r"项目建设|重大项目|项目为王|开工|竣工|项目落地|带班",
        "科技创新": r"科技|创新|研发|孵化|高企|高新技术",
        "党建引领": r"党建|党组织|党支部|党员|政治站位",
        "营商环境": r"营商环境|办事效率|一网通办|跑一次",
        "干部培养": r"干部|以老带新|人才队伍|招商人员|素质",
        "企业服务": r"服务企业|企业服务|为企业|企业诉求|帮扶|企业家|中小企业|服务好",
        "生态环保": r"生态环境|环保|污染|排污|绿色发展|环评|减排|低碳",
        "产业发展": r"产业|集群|龙头|转型升级|腾笼换鸟|产能",
        "土地要素": r"土地|用地|标准地|厂房|地块|亩均|空间资源|楼宇",
        "区域合作": r"飞地|合作|共建|协同|对口|区域",
    }.items()
}
THEME_VOCABULARY = tuple(THEMES)
MAX_THEMES = 3


@dataclass(frozen=True)
class SpeechSpan:
    """Where a speech lies, for the candidates within it; remarks: a leader's remarks."""

    start: int
    end: int
    remarks: bool = False


@dataclass(frozen=True)
class Candidate:
    """A piece of the text that looks like a proposal; speech is an index into the spans
    the candidates were found with (None outside every speech)."""

    quote_start: int
    quote_end: int
    quote: str
    speech: int | None
    title: str
    kind: ActionKind
    themes: list[str]
    score: int
    cues: list[str] = field(default_factory=list)


def pieces(text: str) -> list[list[tuple[int, int]]]:
    """The sentences and clauses of each prose line, as (start, end), one list per line."""
    found = []
    for line in lines(text):
        span = prose_span(line)
        if span is None:
            continue
        line_pieces: list[tuple[int, int]] = []
        for start, end in _sentences(text, *span):
            cuts = [m.end() for m in CLAUSE_CUT.finditer(text, start, end)]
            bounds = [start, *cuts, end]
            for clause_start, clause_end in itertools.pairwise(bounds):
                trimmed = _trim(text, clause_start, clause_end)
                if trimmed is not None:
                    line_pieces.append(trimmed)
        if line_pieces:
            found.append(line_pieces)
    return found


def _sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    bounds = [start, *(m.end() for m in SENTENCE_END.finditer(text, start, end)), end]
    return [(a, b) for a, b in itertools.pairwise(bounds) if b > a]


def _trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The clause without surrounding space and a trailing ；，、： (None when nothing of
    Chinese is left)."""
    while start < end and (text[start].isspace() or text[start] in "；;，,、"):
        start += 1
    while end > start and (text[end - 1].isspace() or text[end - 1] in "；;，,、：:"):
        end -= 1
    return (start, end) if HAS_CJK.search(text, start, end) else None


def _groups(text: str, line_pieces: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Pieces joined where they belong together: a short lead sentence ("三是党建活动促进招商
    引资落地。") with the next, an example (例如…) with the one before."""
    groups: list[tuple[int, int]] = []
    leads_on = False
    for index, (start, end) in enumerate(line_pieces):
        piece = text[start:end]
        joins = groups and (leads_on or EXAMPLE_START.match(piece))
        if joins and end - groups[-1][0] <= MAX_MERGED:
            groups[-1] = (groups[-1][0], end)
            leads_on = False
            continue
        groups.append((start, end))
        leads_on = _is_lead(piece, first=index == 0)
    return groups


def _is_lead(piece: str, first: bool) -> bool:
    """A short sentence that introduces what follows it."""
    return (
        len(piece) <= 18
        and piece.endswith(("。", "："))
        and (first or bool(ENUMERATION_START.match(piece)))
    )


def _lead_start(text: str, start: int, end: int) -> int:
    """Where the ask in a sentence starts: at a clause opening with 建议/我们要/… when the
    clauses before it ask nothing ("我市于…下发了…，建议我区加快…")."""
    offset = start
    for clause in re.split(r"(?<=[，,])", text[start:end]):
        if offset > start and LEAD_CLAUSE.match(clause):
            before = text[start:offset]
            if not (ASK.search(before) or MODAL.search(before)):
                return offset
        offset += len(clause)
    return start


def score(piece: str, outside_speeches: bool) -> tuple[int, list[str]]:
    """Points for how much a piece reads as a proposal, and the cues that earned them;
    outside_speeches: the text has speeches and the piece is in none of them."""
    cues: list[str] = []
    points = 0

    def add(value: int, pattern: re.Pattern[str], cap: int = 1) -> None:
        nonlocal points
        hits = list(dict.fromkeys(m.group() for m in pattern.finditer(piece)))
        if hits:
            points += value * min(len(hits), cap)
            cues.extend(hits[:cap] if value > 0 else [f"-{hit}" for hit in hits[:cap]])

    add(4, ASK)
    add(3, MODAL)
    add(1, VERBS, cap=3)
    add(1, MECHANISM)
    add(1, OURS)
    add(1, METHOD)
    add(1, EXHORT)
    add(2, LESSON)
    add(-3, NARRATIVE)
    add(-3, NEWS)
    add(-1, FIGURES, cap=3)
    if len(PAST.findall(piece)) >= 2:
        points -= 1
        cues.append("-了")
    if ENUMERATION_START.match(piece):
        points += 1
        cues.append("列举")
    if outside_speeches:
        points -= 2
        cues.append("-outside speeches")
    if len(piece) < 10:
        points -= 3
    if piece.endswith(("？", "?")):
        points -= 2
    return points, cues


OUR_KINDS = {"高新区", "开发区", "工业区", "新区"}


def visited_places(text: str) -> set[str]:
    """Where the article's people went to learn ("赴秀洲高新区挂职" → 秀洲高新区, 秀洲;
    "赴杭州余杭区考察" → 杭州余杭区, 杭州, 余杭区), whose practice a lesson describes."""
    places = {"他们", "当地", "先进地区", "外地", "对方"}
    pattern = r"(?:赴|到|去)([\u4e00-\u9fff]{2,10}?)(?:挂职|学习|考察|调研|参观|交流)"
    for match in re.finditer(pattern, text):
        place = match.group(1)
        district = place[2:]  # 杭州余杭区 → 余杭区, but never 高新区 or 开发区, ours too
        places.update({place, place[:2]})
        if re.fullmatch(r"[\u4e00-\u9fff]{2}[区县市]", district) and district not in OUR_KINDS:
            places.add(district)
    return places


def kind_of(piece: str, remarks: bool, places: set[str]) -> ActionKind:
    """directive for a leader's remarks, lesson for another place's practice, else
    recommendation."""
    if remarks:
        return ActionKind.directive
    asks = ASK.search(piece) or OURS.search(piece)
    if not asks and any(place in piece for place in places):
        return ActionKind.lesson
    if "借鉴" in piece or "学习" in piece:
        return ActionKind.lesson
    return ActionKind.recommendation


def themes_of(piece: str) -> list[str]:
    """Up to three themes of the vocabulary, the most mentioned first."""
    counts = {name: len(pattern.findall(piece)) for name, pattern in THEMES.items()}
    ranked = sorted((name for name, n in counts.items() if n), key=lambda n: -counts[n])
    return ranked[:MAX_THEMES]


TITLE_LEAD = re.compile(
    rf"^(?:{ENUMERATION}|[，、]|建议|希望|所以|因此|这就需要|我们|要|需要|应当?|进一步|同时|"
    r"另外|此外|对此|[他她]?(?:强调|指出|要求|表示)|我(?:认为|建议|觉得|的体会是)|"
    r"[^，。]{0,8}(?:高新区|我区|我市|园区)|在[^，。]{1,12}方面)+"
)


def title_of(piece: str) -> str:
    """A short title: the first clause without its lead words (一是、建议我区、我们要…)."""
    body = piece
    for _ in range(3):
        stripped = TITLE_LEAD.sub("", body)
        if stripped == body or len(stripped) < 4:
            break
        body = stripped
    clauses = [c for c in re.split(r"[，,；;。！？：:]", body) if c]
    title = clauses[0] if clauses else piece
    if len(title) < 6 and len(clauses) > 1:
        title = f"{title}，{clauses[1]}"
    if len(title) > MAX_TITLE:
        title = title[: MAX_TITLE - 1] + "…"
    title += "”" * (title.count("“") - title.count("”"))
    return title or piece[:MAX_TITLE]


def _speech_of(
    speeches: Sequence[SpeechSpan], starts: list[int], start: int, end: int
) -> int | None:
    """The index of the speech (sorted by start) that holds [start, end), if any."""
    index = bisect.bisect_right(starts, start) - 1
    if index >= 0 and end <= speeches[index].end:
        return index
    return None


def find_candidates(text: str, speeches: Sequence[SpeechSpan]) -> list[Candidate]:
    """The pieces of text that score as proposals, in text order; speeches sorted by start
    and not overlapping."""
    places = visited_places(text)
    starts = [speech.start for speech in speeches]
    found = []
    for line_pieces in pieces(text):
        for group_start, end in _groups(text, line_pieces):
            start = _lead_start(text, group_start, end)
            piece = text[start:end]
            speech = _speech_of(speeches, starts, start, end)
            points, cues = score(piece, bool(speeches) and speech is None)
            if points < THRESHOLD:
                continue
            remarks = speech is not None and speeches[speech].remarks
            found.append(
                Candidate(
                    quote_start=start,
                    quote_end=end,
                    quote=piece,
                    speech=speech,
                    title=title_of(piece),
                    kind=kind_of(piece, remarks, places),
                    themes=themes_of(piece),
                    score=points,
                    cues=cues,
                )
            )
    return found
