"""Speech detection and candidates on the seed article and on the articles of the same genre
in tests/sources/fixtures (four written with the rules, ten written blind; each with a seed
file of the proposals a curator would keep): exact quotes that never cross a layout break,
the seed article's targets, each candidate cue on a short invented text, and plain answers to
texts with nothing to find."""

import tracemalloc
from pathlib import Path

import pytest

from app.config import SEEDS_DIR
from app.seeding.service import load_plan
from app.sources.candidates import THEME_VOCABULARY, find_candidates, visited_places
from app.sources.draft import speech_spans
from app.sources.evaluation import evaluate
from app.sources.layout import CAPTION, lines
from app.sources.speeches import detect_speeches, guess_unit_kind, match_unit, resolve_unit
from app.units.models import UnitKind
from tests.helpers import ARTICLE

pytestmark = pytest.mark.database_free  # no database: the PostgreSQL pass leaves it out

FIXTURES = Path(__file__).parent / "fixtures"
SEED_FILE = SEEDS_DIR / "xiuzhou-secondment.toml"
SEED_FILES = [SEED_FILE, *sorted(FIXTURES.glob("*.toml"))]
CAPTION_LINE = "高新区挂职人员在浙江嘉兴秀洲高新区学习观摩 张全 摄"


def candidates_of(text: str) -> list[tuple[int, int, str]]:
    found = find_candidates(text, speech_spans(detect_speeches(text)))
    return [(c.quote_start, c.quote_end, c.quote) for c in found]


@pytest.mark.parametrize("seed_file", SEED_FILES, ids=lambda path: path.stem)
def test_every_quote_is_an_exact_slice_within_one_line(seed_file: Path) -> None:
    text = load_plan(seed_file).text
    captions = [(line.start, line.end) for line in lines(text) if CAPTION.search(line.text)]
    found = candidates_of(text)
    assert found
    for start, end, quote in found:
        assert text[start:end] == quote
        assert quote == quote.strip() and quote
        assert "\n" not in quote and "\r" not in quote, quote
        assert not any(c_start <= start < c_end for c_start, c_end in captions), quote
    assert [start for start, _, _ in found] == sorted(start for start, _, _ in found)


def test_the_seed_article_has_its_layout_breaks_and_no_quote_crosses_them() -> None:
    # The breaks the seed file names: a caption inside a sentence, 第61 / 名, 党建联 / 盟.
    assert f"\n\n\n\n{CAPTION_LINE}\n\n" in ARTICLE
    assert "第61\n\n名" in ARTICLE and "党建联\n\n盟" in ARTICLE
    quotes = [quote for _, _, quote in candidates_of(ARTICLE)]
    assert not any(CAPTION_LINE in quote or "张全 摄" in quote for quote in quotes)
    assert any(quote.startswith("盟由地方党组织牵头") for quote in quotes)


def test_the_seed_article_meets_its_targets() -> None:
    figures = evaluate(SEED_FILE)
    assert figures.curated == 43 and figures.speakers == 8
    assert figures.recall >= 0.9, figures.missed_quotes
    assert figures.per_action <= 2, figures.candidates
    assert figures.speakers_found == 8, figures.missed_speakers
    assert len(figures.missed_quotes) == figures.curated - figures.found


@pytest.mark.parametrize("seed_file", SEED_FILES[1:], ids=lambda path: path.stem)
def test_the_fixtures_speakers_and_proposals_are_found(seed_file: Path) -> None:
    figures = evaluate(seed_file)
    assert figures.speakers_found == figures.speakers, figures.missed_speakers
    assert figures.recall >= 0.8, figures.missed_quotes
    assert figures.per_action <= 2, figures.candidates


def test_a_report_signed_by_a_unit_is_its_speech_and_numbered_titles_are_not_prose() -> None:
    text = (FIXTURES / "hangzhou-digital-report-2024-11-12.txt").read_text(encoding="utf-8")
    [speech] = detect_speeches(text)
    assert (speech.speaker, speech.unit) == ("区科技创新局", "区科技创新局")
    assert speech.heading == "关于赴杭州余杭区考察学习数字经济发展的报告"
    found = find_candidates(text, speech_spans([speech]))
    assert not any(c.quote in ("一、主要做法", "三、对策建议") for c in found)
    kinds = {c.title: c.kind for c in found}
    assert kinds["以基金撬动产业项目"] == "lesson"  # 余杭区's practice
    assert kinds["设立数字经济产业引导基金"] == "recommendation"


@pytest.mark.parametrize("seed_file", SEED_FILES, ids=lambda path: path.stem)
def test_speeches_are_found_where_the_curator_put_them(seed_file: Path) -> None:
    plan = load_plan(seed_file)
    found = detect_speeches(plan.text)
    unit_names = [unit.name for unit in plan.units]
    assert [(s.speaker, resolve_unit(s, unit_names), s.start, s.end) for s in found] == [
        (s.speaker, s.unit, s.start, s.end) for s in plan.speeches
    ]


def test_the_seed_article_speakers_and_their_units() -> None:
    found = detect_speeches(ARTICLE)
    assert [(s.speaker, s.unit, s.remarks) for s in found] == [
        ("凌兵奎", "区党工委", True),
        ("谢纳", "区科技创新局", False),
        ("马骏", "沙河产业园区", False),
        ("高健", "区经济发展局", False),
        ("陈家宝", "区经济发展局", False),
        ("梁成", "区城乡建设和生态环境局", False),
        ("余佳沛", "创新创业服务园区", False),
        ("袁梦哲", "皇台产业园区", False),
    ]
    assert ARTICLE[found[1].start :].startswith("### 党建引领 集群发展 全员招商")


def test_a_candidate_has_a_title_kind_themes_and_score() -> None:
    text = (
        "区经济发展局 高健：我市下发了实施办法，建议我区加快“标准地”改革，实现工程项目拿地即开工。"
    )
    speeches = detect_speeches(text)
    [candidate] = find_candidates(text, speech_spans(speeches))
    assert candidate.quote == "建议我区加快“标准地”改革，实现工程项目拿地即开工。"
    assert candidate.title == "加快“标准地”改革"
    assert candidate.kind == "recommendation"
    assert {"项目审批", "土地要素"} <= set(candidate.themes) <= set(THEME_VOCABULARY)
    assert candidate.score >= 4 and "建议" in candidate.cues
    assert candidate.speech == 0 and speeches[0].unit == "区经济发展局"


def test_leader_remarks_are_directives_and_another_place_s_practice_a_lesson() -> None:
    text = (
        "本报讯 高新区组织干部赴昆山开发区考察学习。区管委会主任李文涛出席。\n\n"
        "区商务局 刘洋：昆山开发区推行项目“全程代办”，每个项目配一名代办员牵头办理手续。"
        "昆山开发区“以商引商”的做法值得借鉴。\n\n"
        "李文涛强调，一要强化考核，把招商实绩作为干部评价的重要依据。\n"
    )
    kinds = {
        c.quote[:4]: c.kind for c in find_candidates(text, speech_spans(detect_speeches(text)))
    }
    # Their practice described with no lesson drawn from it is not a candidate.
    assert kinds == {"昆山开发": "lesson", "一要强化": "directive"}


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\n\n   \n",
        "。。！？；\n\n——\n",
        "The zone should build an incubator reward scheme; we propose three measures.\n",
        "12345 67890 3.14 %",
        CAPTION_LINE,
    ],
    ids=["empty", "blank", "punctuation", "english", "digits", "caption"],
)
def test_texts_without_proposals_give_nothing(text: str) -> None:
    assert candidates_of(text) == []
    assert detect_speeches(text) == []


def test_a_megabyte_article_gives_every_copy_s_candidates_in_bounded_memory() -> None:
    copies = 1_000_000 // len(ARTICLE.encode("utf-8")) + 1
    text = ARTICLE * copies
    assert len(text.encode("utf-8")) > 1_000_000
    one = candidates_of(ARTICLE)
    tracemalloc.start()
    try:
        found = candidates_of(text)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Every copy's speeches are found again, so every copy's candidates are.
    size = len(ARTICLE)
    assert found == [(s + k * size, e + k * size, q) for k in range(copies) for s, e, q in one]
    assert peak < 10 * len(text.encode("utf-8")), peak


def test_units_match_existing_names_or_are_new_with_a_guessed_kind() -> None:
    existing = ["区经济发展局", "沙河产业园区", "区党工委"]
    assert match_unit("区经济发展局", existing) == "区经济发展局"
    assert match_unit("经济发展局", existing) == "区经济发展局"
    assert match_unit("高新区党工委", existing) == "区党工委"
    assert match_unit("区商务局", existing) is None
    assert [guess_unit_kind(n) for n in ("区商务局", "尧山产业园区", "区管委会", "国资公司")] == [
        UnitKind.bureau,
        UnitKind.park,
        UnitKind.committee,
        UnitKind.other,
    ]


def scored(text: str) -> dict[str, list[str]]:
    """The cues of each candidate of text, by its quote."""
    found = find_candidates(text, speech_spans(detect_speeches(text)))
    return {c.quote: c.cues for c in found}


BYLINE = "区统计局 林晓东："


def test_an_ask_carries_to_the_clauses_and_sentences_after_it_in_its_paragraph() -> None:
    found = scored(
        BYLINE + "建议设立数据基金；定期举办数据路演，每月一场。把开放数据纳入考核指标。\n"
    )
    assert "承接" in found["定期举办数据路演，每月一场。"]
    assert "承接" in found["把开放数据纳入考核指标。"]


def test_a_plan_of_our_side_and_a_target_make_a_candidate_without_an_ask() -> None:
    found = scored(BYLINE + "区统计局将联合区税务局开设数据专窗；年内组织不少于20家企业对接。\n")
    assert "局将" in found["区统计局将联合区税务局开设数据专窗"]
    assert "年内" in found["年内组织不少于20家企业对接。"]


def test_what_our_side_could_do_and_a_pilot_to_start_are_proposals() -> None:
    found = scored(f"{BYLINE}我区可以在商务区率先试点数据服务站。\n")
    assert "我区可以" in found["我区可以在商务区率先试点数据服务站。"]
    started = scored(f"{BYLINE}数据方面，今年启动城东3处数据中心试点。\n")
    assert {"启动", "试点"} <= set(started["数据方面，今年启动城东3处数据中心试点。"])


@pytest.mark.parametrize(
    ("sentence", "cue"),
    [
        ("我区应加快建设数据平台。", "应"),
        ("亟须建立数据共享机制。", "亟须"),
        ("可考虑设立数据产业基金。", "可考虑"),
        ("提议设立数据产业基金。", "提议"),
    ],
)
def test_asks_in_other_words_are_asks(sentence: str, cue: str) -> None:
    assert cue in scored(f"区统计局 林晓东\n\n{sentence}\n")[sentence]


def test_the_ying_of_other_words_is_no_ask() -> None:
    found = scored("区统计局 林晓东\n\n我们应对市场变化的办法很多。\n")
    assert all("应" not in cue for cues in found.values() for cue in cues)


def test_a_verb_object_ask_after_a_topic_and_asks_to_encourage_are_imperatives() -> None:
    found = scored("区统计局 林晓东\n\n在人才方面，出台数据人才专项政策。\n")
    assert "祈使" in found["在人才方面，出台数据人才专项政策。"]
    encourage = scored("区统计局 林晓东\n\n鼓励企业开放数据，对开放数据的企业给予奖励。\n")
    assert "鼓励" in encourage["鼓励企业开放数据，对开放数据的企业给予奖励。"]


def test_a_verb_object_ask_without_a_subject_is_an_imperative() -> None:
    found = scored(
        "区统计局 林晓东\n\n我们的问题比较突出。\n\n推行“数据一张卡”，把高频事项集成办理。\n"
    )
    assert "祈使" in found["推行“数据一张卡”，把高频事项集成办理。"]
    grant = scored(f"{BYLINE}对主动开放数据的企业，在评优上给予优先安排。\n")
    assert "祈使" in grant["对主动开放数据的企业，在评优上给予优先安排。"]


def test_paragraphs_after_one_announcing_proposals_are_listed_and_titles_count() -> None:
    text = (
        "### 把数据用起来\n\n区统计局 林晓东\n\n对照外地，我有以下几点思考。\n\n"
        "数据审批再提速。一般事项审批时间控制在3个工作日以内。\n"
    )
    found = scored(text)
    cues = found["数据审批再提速。一般事项审批时间控制在3个工作日以内。"]
    assert {"列项", "标题句"} <= set(cues)
    assert not any("以下几点" in quote for quote in found)  # the announcement itself


def test_a_description_of_the_place_visited_a_summing_up_and_achieved_figures_are_not() -> None:
    text = (
        "本报讯 区统计局组织干部赴昆山开发区考察学习。\n\n"
        "区统计局局长林晓东说，昆山开发区对数据实行分级开放，企业只需要提交一次材料。"
        "当地还推出“数据一卡通”，凭卡即可查询。"
        "昆山的经验归结起来就是一句话：数据多跑路。"
        "今年以来我区已累计开放数据集120个。"
        "建议筹集不少于500万元数据开放资金。\n"
    )
    assert list(scored(text)) == ["建议筹集不少于500万元数据开放资金。"]


@pytest.mark.parametrize(
    "question",
    [
        "我区能不能也设立一笔数据产业基金，对企业上云给予补助？",
        "能否引入一批数据服务商，为中小企业免费做诊断？",
        "为什么不在商务区规划一片数据产业园？",
        "我们是否可以先在园区试点数据账户？",
        "我们是不是也可以建立数据共享机制？",
    ],
)
def test_an_ask_put_as_a_question_to_our_side_is_a_proposal(question: str) -> None:
    assert "问句建议" in scored(f"{BYLINE}{question}\n")[question]


def test_other_questions_are_no_proposals() -> None:
    text = f"{BYLINE}这些做法，我区能学多少？\n\n问：我区能不能也设立数据产业基金？\n"
    assert scored(text) == {}


def test_an_imperative_carries_its_ask_and_joint_work_is_an_imperative() -> None:
    text = f"{BYLINE}设立数据基金，采取母基金方式；对政府投资项目推行绩效管理。\n"
    assert "承接" in scored(text)["对政府投资项目推行绩效管理。"]
    joint = "联合区财政局设立数据风险补偿资金。"
    assert "祈使" in scored(f"{BYLINE}{joint}\n")[joint]


def test_a_proposal_put_forward_by_name_carries_and_a_zone_of_ours_may() -> None:
    found = scored(f"{BYLINE}林晓东提出，年内启动数据中心建设；新建小区同步配建充电设施。\n")
    assert "林晓东提出，" in found["林晓东提出，年内启动数据中心建设"]
    assert "承接" in found["新建小区同步配建充电设施。"]
    may = "远桥开发区可以依托日资企业建设合作园。"
    assert "远桥开发区可以" in scored(f"{BYLINE}{may}\n")[may]


def test_the_place_visited_is_known_by_its_other_name_too() -> None:
    assert {"中国光谷", "光谷"} <= visited_places("赴武汉东湖高新区（中国光谷）挂职归来")


def test_the_place_visited_is_known_without_its_city_s_suffix_and_its_district_s() -> None:
    assert {"黄埔区", "黄埔"} <= visited_places("赴广州市黄埔区考察学习")
    assert {"余杭区", "余杭"} <= visited_places("赴杭州余杭区考察")
