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

ASK = re.compile(r"建议|希望|倡议|呼吁|提议")
# A bare 应 is a modal after our side or before a verb of doing ("我区应加快…", "应建立…"),
# never in 应对, 供应, 相应…
MODAL = re.compile(
    r"(?<![主重只想需不])要(?![求素点闻害塞是])|(?<![只不])需要|应当|应该|必须|务必|亟需|亟须|亟待|"
    r"(?<=我区|我们|全区|本区|我市|园区|新区)应(?![对用急有])|"
    r"(?<![供相响适对反效回答顺呼理])应(?=加快|推进|推动|建立|健全|完善|加强|强化|探索|借鉴|出台|设立)"
)
VERBS = re.compile(
    r"加快|推进|推动|建立|健全|完善|落实|构建|探索|借鉴|推行|实施|制定|出台|设立|打造|强化|"
    r"加强|提升|提高|优化|深化|发挥|做强|壮大|培育|引导|开展|树立|坚持|扩大|加大|集聚|破解|"
    r"整合|争取|营造|谋划|汇编|摸排|梳理|淘汰|倾斜|补齐|转变|严管|带动|促进|畅通|启动|试点|"
    r"鼓励|支持|(?<!得以)(?<!得到)推广|抓好|用好|做好|管好"
)
# What our side could do: "我区可以在中央商务区率先试点…", "远桥开发区可以依托…", "不妨…".
OUR_MAY = re.compile(
    r"(?:我区|我们|全区|本区|我市|[\u4e00-\u9fff]{2,6}(?:开发区|高新区|经开区|新区|园区))"
    r"(?:也|还)?(?:可以|可|不妨)|可以考虑|可考虑|不妨"
)
# An ask put as a question to our side: "明沙能不能也设立…？", "为什么不…？", "我们是否可以…？"
# (never an interviewer's question: "问：…").
ASKS_WHETHER = re.compile(
    r"能不能|能否|可不可以|可否|是否(?:可以|能够?|应该|考虑)|是不是(?:也|还)?(?:可以|能|应该|该)|"
    r"为什么不|为何不|何不|要不要|"
    r"难道不(?:能|可以)"
)
INTERVIEWER = re.compile(r"^(?:问|记者|主持人)[ \u3000]*[：:]")
MECHANISM = re.compile(r"机制|制度|模式|办法|改革|工作法|格局|体系|清单|专班|措施|做法|示范")
OURS = re.compile(r"我区|我们|全区|本区|我市|下一步|今后")
METHOD = re.compile(r"通过|实行|采取|牵头|转化为|以[^，。]{1,20}为(?:主导|核心|抓手|重点|引领)")
EXHORT = re.compile(
    r"积极|进一步|切实|全力|大力|不断|努力|狠下功夫|下功夫|着力|聚焦|注重|确保|主动"
)
LESSON = re.compile(r"学习到|好的措施|好的做法|经验|值得|借鉴|对标|看齐")
NARRATIVE = re.compile(
    r"我(?:被|挂职|主要|先后|随同|查阅|除了|谨记|深切|深刻|觉得|相信|深知|所挂职|的感受|"
    r"此次|这次|的意愿)|在[^，。]{1,14}挂职(?:锻炼)?(?:期间|的半年|时)"
)
NEWS = re.compile(
    r"召开|出席|主持|作了|进行了|汇报会|本报讯|记者|通讯员|编者按|为题|提出意见建议|提建议"
)
# A summing-up, not an ask: "…的经验归结起来就是一句话".
SUMMARY = re.compile(r"归根到底|归结起来|说到底|一句话|启示是|说明")
FIGURES = re.compile(r"\d+(?:\.\d+)?(?:%|家|人|个|名|亿|万|年|月|日|微克|天)")
# Figures count against a piece only when they report what was done, not a target to reach.
ACHIEVED = re.compile(r"已|累计|去年|近年来|以来|超过|突破|达到|了")
PAST = re.compile(r"了")
# A plan of our side: "区商务局将联合…", "下一步将…", "我们打算…".
PLAN = re.compile(
    r"(?:我们|我区|区里|下一步|今后|局|委|办|中心|公司|集团|园区)[，,]?(?:还|也)?"
    r"(?:将(?![来近])|拟|打算|计划|准备)|打算|"
    r"(?:[他她我]|我们|(?:^|(?<=[，。；：,;]))[\u4e00-\u9fff]{2,4})(?:还|也|同时)?提出[，,：:]"
)
# A target or a deadline: "年内…不少于20家", "年底前实现…".
TARGET = re.compile(
    r"年内|年底前|月底前|日前|季度内|[一二三两\d]+年内|力争|不少于|不低于|至少|确保|逐条|限期|"
    r"(?:控制|压缩|缩短|提高|提升)(?:在|到|至)[^，。；]{1,15}(?:以内|以上|以下)"
)
# A short title sentence opening a paragraph's proposal: "工程建设项目审批再提速。…"
HEADLINE = re.compile(r"^(?:[^，。！？；：是有的]{4,16})。(?=.)")
# A verb-object ask with no subject ("推行“人才服务一张卡”，…", "同时，把…作为…",
# "对主动腾退低效用地的企业，…给予优先安排"): an imperative, in these texts a proposal.
IMPERATIVE = re.compile(
    rf"^(?:{ENUMERATION})?[，,、]?(?:同时|另外|此外|并且?|还要?|再|也要?|另一方面)?[，,]?"
    r"(?:在?[^，。；]{2,10}方面[，,])?"
    rf"(?:{VERBS.pattern}|设立|建成|开设|推出|组织|发放|配备|筹集|引入|引进|试点|开通|上线|编制|"
    r"成立|组建|聘请|选派|举办|定期|把|将|联合|会同|对[^，。；]{2,30}[，,][^。；]*?(?:给予|予以|实行|不予)|"
    r"对[^，。；]{2,16}?(?:推行|实行|实施|开展|给予|予以))"
)
# A paragraph that announces the proposals of the paragraphs after it: "我有以下几点思考".
ANNOUNCES = re.compile(
    r"以下|几点|[两三四五六七八九十几]件事|[两三四五六七八九十几]个方面|"
    r"[两三四五六七八九十几]点(?:建议|思考|想法|体会|考虑|意见)"
)
# The subject of a description of the place visited: "当地…", "他们…", "临港每个…".
THEIRS = r"当地|他们|那里|对方|该区"
# What may come before that subject: "同时，", "李婉清说，", "让我印象最深的是，", "骆骁：".
THEIR_LEAD = re.compile(
    r"^(?:同时|另外|此外|而且|并且?|还|再|其中|比如|例如)?[，,]?"
    r"(?:[^，。]{0,30}?(?:说|表示|认为|介绍|谈到|指出|发现|看来|印象最深的是|了解到)[，,：:]|"
    r"[\u4e00-\u9fff]{2,4}[：:])?"
)

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


@dataclass(frozen=True)
class Context:
    """What around a piece makes it a proposal: an ask earlier in its sentence (carried=2)
    or paragraph (carried=1); a paragraph before it in its speech announcing proposals
    (listed); the subject of a description of the place visited (theirs)."""

    carried: int = 0
    listed: bool = False
    theirs: re.Pattern[str] = re.compile(THEIRS)


def score(
    piece: str, outside_speeches: bool, context: Context = Context()
) -> tuple[int, list[str]]:
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

    def cue(value: int, name: str) -> None:
        nonlocal points
        points += value
        cues.append(name)

    add(4, ASK)
    add(3, MODAL)
    add(2, PLAN)
    add(3, OUR_MAY)
    add(1, VERBS, cap=3)
    add(1, MECHANISM)
    add(1, OURS)
    add(1, METHOD)
    add(1, EXHORT)
    add(2, LESSON)
    achieved = ACHIEVED.search(piece)
    if not achieved:
        add(1, TARGET)
    add(-3, NARRATIVE)
    add(-3, NEWS)
    add(-2, SUMMARY)
    if achieved:
        add(-1, FIGURES, cap=3)
    if HEADLINE.match(piece):
        cue(1, "标题句")
    if len(piece) <= 30 and ANNOUNCES.search(piece):
        cue(-3, "-引言")
    if len(PAST.findall(piece)) >= 2:
        cue(-1, "-了")
    if ENUMERATION_START.match(piece):
        cue(1, "列举")
    if IMPERATIVE.match(piece):
        cue(2, "祈使")
    if context.carried:
        cue(context.carried, "承接")
    if context.listed:
        cue(1, "列项")
    if _describes_theirs(piece, context.theirs):
        cue(-2, "-对方做法")
    if outside_speeches:
        cue(-2, "-outside speeches")
    if len(piece) < 10:
        points -= 3
    if piece.endswith(("？", "?")):
        if ASKS_WHETHER.search(piece) and not INTERVIEWER.match(piece):
            cue(3, "问句建议")
        else:
            points -= 2
    return points, cues


def _describes_theirs(piece: str, theirs: re.Pattern[str]) -> bool:
    """Whether a piece opens on the place visited as its subject and asks nothing of ours."""
    subject = theirs.match(THEIR_LEAD.sub("", piece, count=1))
    return subject is not None and not (ASK.search(piece) or OURS.search(piece))


def their_subject(places: set[str]) -> re.Pattern[str]:
    """What opens a description of the place visited: its names, 当地, 他们…"""
    names = sorted(places, key=len, reverse=True)
    return re.compile("|".join([THEIRS, *(re.escape(name) for name in names)]))


OUR_KINDS = {"高新区", "开发区", "工业区", "新区"}
# The kind of zone a place's name ends with; never a place's name alone.
ZONE_KINDS = ("工业园区", "高新区", "开发区", "经开区", "新片区", "工业区", "新区", "园区")


def visited_places(text: str) -> set[str]:
    """Where the article's people went to learn ("赴秀洲高新区挂职" → 秀洲高新区, 秀洲;
    "赴杭州余杭区考察" → 杭州余杭区, 杭州, 余杭区; "赴上海临港新片区挂职" → 临港新片区,
    临港; "赴武汉东湖高新区（中国光谷）挂职" → its other name too, 中国光谷, 光谷), whose
    practice a lesson describes."""
    places = {"他们", "当地", "先进地区", "外地", "对方"}
    pattern = (
        r"(?:赴|到|去)([\u4e00-\u9fff]{2,10}?)(?:[（(]([\u4e00-\u9fff]{2,8})[）)])?"
        r"(?:挂职|学习|考察|调研|参观|交流)"
    )
    for match in re.finditer(pattern, text):
        place, other_name = match.groups()
        if other_name:
            places.update({other_name, other_name.removeprefix("中国")})
        place = re.sub(
            r"^([\u4e00-\u9fff]{2})[省市](?=[\u4e00-\u9fff]{3})", r"\1", place
        )  # 广州市黄埔区
        rest = place[2:]  # 杭州余杭区 → 余杭区, but never 高新区 or 开发区, ours too
        places.update({place, place[:2]})
        if re.fullmatch(r"[\u4e00-\u9fff]{2}[区县市]", rest) and rest not in OUR_KINDS:
            places.update({rest, rest[:2]})  # 余杭区, 余杭
        zone = next((kind for kind in ZONE_KINDS if rest.endswith(kind)), None)
        if zone and len(rest) - len(zone) >= 2:
            places.update({rest, rest[: -len(zone)]})
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


def _asks(piece: str) -> bool:
    """Whether a piece asks for something, so that the pieces after it carry its ask: an
    ask, a modal, a plan, or a verb-object ask without a subject."""
    return any(p.search(piece) for p in (ASK, MODAL, PLAN)) or bool(IMPERATIVE.match(piece))


def find_candidates(text: str, speeches: Sequence[SpeechSpan]) -> list[Candidate]:
    """The pieces of text that score as proposals, in text order; speeches sorted by start
    and not overlapping."""
    places = visited_places(text)
    theirs = their_subject(places)
    starts = [speech.start for speech in speeches]
    found = []
    announced: int | None = None  # the speech a paragraph announced proposals in
    for line_pieces in pieces(text):
        asked_at: int | None = None  # where the last ask of the paragraph ended
        line_speech = _speech_of(speeches, starts, line_pieces[0][0], line_pieces[0][1])
        listed = line_speech is not None and line_speech == announced
        for group_start, end in _groups(text, line_pieces):
            start = _lead_start(text, group_start, end)
            piece = text[start:end]
            speech = _speech_of(speeches, starts, start, end)
            carried = 0
            if asked_at is not None:
                carried = 1 if SENTENCE_END.search(text, asked_at, start) else 2
            context = Context(carried, listed, theirs)
            points, cues = score(piece, bool(speeches) and speech is None, context)
            if _asks(piece):
                asked_at = end
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
        last = text[line_pieces[-1][0] : line_pieces[-1][1]]
        if line_speech is not None and ANNOUNCES.search(last):
            announced = line_speech
        elif line_speech != announced:
            announced = None
    return found
