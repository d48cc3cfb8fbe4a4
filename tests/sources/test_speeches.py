"""Speech detection on the ways articles of the genre introduce a speaker, each on a short
invented text: news-reported speeches (单位职务姓名…说, 来自X的Y说, a quote first, the name
then 他强调), bylines with a title or a mark, a signature at the end of a section, a leader's
points in paragraphs of their own, a sentence that goes on across a photo caption."""

import pytest

from app.sources.speeches import FoundSpeech, detect_speeches, is_remarks, resolve_unit

pytestmark = pytest.mark.database_free  # no database: the PostgreSQL pass leaves it out

LEAD = "本报讯 6月3日，高新区召开赴外地考察学习交流会。\n\n"


def found(text: str) -> list[tuple[str, str | None, str]]:
    """(speaker, unit, the speech's text) of each speech found."""
    return [(s.speaker, s.unit, text[s.start : s.end]) for s in detect_speeches(text)]


@pytest.mark.parametrize(
    "paragraph",
    [
        "区统计局局长林晓东在发言中表示，建议建立数据共享机制。",
        "会议最后，区统计局副局长林晓东在总结时指出，要建立数据共享机制。",
        "在谈到数据时，区统计局的林晓东认为，应当建立数据共享机制。",
        "来自区统计局的林晓东说，我们要建立数据共享机制。",
        "“数据还在睡觉。”区统计局局长林晓东说，建议建立数据共享机制。",
        "“数据还在睡觉，”区统计局局长林晓东说。他建议建立数据共享机制。",
        "区统计局副局长林晓东结合工作实际谈了两点体会。首先，要建立数据共享机制。",
        "“数据要用起来。”在区统计局副局长林晓东看来，应当建立数据共享机制。",
        "对此，区统计局的林晓东深有感触：应当建立数据共享机制。",
        "区统计局副局长林晓东接过话题：要建立数据共享机制。",
        "会上，区统计局局长林晓东首先发言。他说，要建立数据共享机制。",
        "随后发言的区统计局副局长林晓东，分享了外地的做法。当地数据集中开放。林晓东建议建立数据共享机制。",
        "区统计局党组书记、局长林晓东说，建议建立数据共享机制。",
        "据区统计局局长林晓东介绍，下一步要建立数据共享机制。",
        "区统计局林晓东说，建议建立数据共享机制。",
        "林晓东（区统计局副局长）说，建议建立数据共享机制。",
        "作为挂职干部代表，区统计局副局长林晓东第一个发言。他说，要建立数据共享机制。",
        "区统计局四级调研员林晓东表示，要建立数据共享机制。",
    ],
    ids=[
        "说-after-title",
        "lead-clause",
        "在谈到-的",
        "来自-的",
        "quote-first",
        "quote-comma",
        "谈了",
        "在-看来",
        "深有感触",
        "接过话题",
        "首先发言-他说",
        "的-named-first-then-the-name-says",
        "党组书记-局长",
        "据-介绍",
        "no-title",
        "unit-in-brackets",
        "第一个发言",
        "四级调研员",
    ],
)
def test_a_speech_reported_in_the_news_is_its_paragraph(paragraph: str) -> None:
    text = LEAD + paragraph + "\n\n记者了解到，全区已建成数据平台3个。\n"
    assert found(text) == [("林晓东", "区统计局", paragraph)]


def test_a_leader_named_first_then_he_stresses_gives_directive_remarks_with_both_units() -> None:
    intro = "本报讯 区党工委副书记、管委会主任周海出席会议。\n\n"
    remarks = "周海对大家的汇报给予肯定。他强调，一要抓好转化，形成任务清单；"
    text = intro + remarks + "\n\n二要建立台账，每半年通报一次。\n\n其次，要选派干部跟班学习。\n"
    [speech] = detect_speeches(text)
    assert (speech.speaker, speech.units, speech.remarks) == ("周海", ("区党工委", "管委会"), True)
    assert text[speech.start : speech.end] == text[len(intro) :].rstrip("\n")
    # The existing unit among the posts the article gives: 区管委会 when there is no 党工委.
    assert resolve_unit(speech, ["区管委会", "区统计局"]) == "区管委会"
    assert resolve_unit(speech, ["区党工委", "区管委会"]) == "区党工委"
    assert resolve_unit(speech, ["区统计局"]) == "区党工委"


def test_a_department_head_s_news_speech_is_not_a_leader_s_remarks() -> None:
    text = LEAD + "区统计局局长林晓东在发言中表示，建议建立数据共享机制。\n"
    [speech] = detect_speeches(text)
    assert not speech.remarks
    assert not is_remarks(text, speech.start, ["区统计局"])
    assert is_remarks(text, speech.start, ["区管委会"])


def test_a_new_speaker_closes_the_speech_and_a_paragraph_saying_nothing_ends_it() -> None:
    first = "区统计局局长林晓东说，建议建立数据共享机制。"
    second = "区商务局副局长何平表示，要开设外贸专窗。"
    text = LEAD + f"{first}\n\n{second}\n\n她还建议设立专项资金。\n\n全区已建成平台3个。\n"
    assert found(text) == [
        ("林晓东", "区统计局", first),
        ("何平", "区商务局", f"{second}\n\n她还建议设立专项资金。"),
    ]


def test_saying_words_inside_other_words_open_no_speech() -> None:
    text = "区统计局局长林晓东出席会议。\n\n林晓东的经验说明，数据是基础。\n"
    assert detect_speeches(text) == []


@pytest.mark.parametrize(
    ("byline", "inline"),
    [
        ("区统计局副局长 林晓东：", True),
        ("区统计局副局长林晓东：", False),
        ("■ 区统计局 林晓东", False),
        ("【区统计局局长 林晓东】", False),
        ("林晓东（区统计局副局长）：", True),
    ],
)
def test_bylines_with_a_title_or_a_mark_open_a_speech(byline: str, inline: bool) -> None:
    body = "我们要建立数据共享机制。"
    opening = byline + body if inline else f"{byline}\n\n{body}"
    text = f"{LEAD}{opening}\n\n### 下一节\n"
    assert found(text) == [("林晓东", "区统计局", opening)]


def test_a_byline_with_a_dash_under_a_heading_starts_at_the_heading() -> None:
    section = "### 把数据用起来\n\n——区统计局副局长 林晓东\n\n我们要建立数据共享机制。"
    text = f"## 发言摘登\n\n{section}\n"
    assert found(text) == [("林晓东", "区统计局", section)]


def test_a_section_signed_at_its_end_is_its_signer_s_speech_up_to_the_signature() -> None:
    section = "### 监管要有温度\n\n我们要推行“综合查一次”。\n\n（作者系区统计局副局长 林晓东）"
    text = f"### 上一节\n\n区商务局 何平\n\n要开设专窗。\n\n{section}\n"
    [_, signed] = detect_speeches(text)
    assert (signed.speaker, signed.unit, signed.heading) == ("林晓东", "区统计局", "监管要有温度")
    assert text[signed.start : signed.end] == section


def test_an_inline_speech_goes_on_across_a_caption_inside_its_sentence() -> None:
    text = (
        "区统计局副局长 林晓东：对低效用地，要通过协商收回、鼓励\n\n"
        "考察组在企业参观 张三 摄\n\n"
        "转让等办法盘活。\n\n"
        "全区已建成平台3个。\n"
    )
    [speech] = detect_speeches(text)
    assert text[speech.start : speech.end].endswith("转让等办法盘活。")


def test_found_speech_units_list_the_first_unit_first() -> None:
    speech = FoundSpeech("h", "周海", "区党工委", 0, 1, other_units=("管委会",))
    assert speech.units == ("区党工委", "管委会")
    assert FoundSpeech("h", "周海", None, 0, 1).units == ()


def test_a_speaker_named_after_a_description_of_the_place_speaks_from_that_sentence() -> None:
    described = "外地把数据集中开放，企业一次申请即可使用。"
    speech = "区统计局副局长林晓东说，建议建立数据共享机制。"
    text = LEAD + described + speech + "\n"
    assert found(text) == [("林晓东", "区统计局", speech)]


def test_a_known_person_s_name_and_a_colon_open_their_speech() -> None:
    answer = "林晓东：我们要建立数据共享机制。"
    text = LEAD + f"区统计局局长林晓东参加座谈。\n\n{answer}\n"
    assert found(text) == [("林晓东", "区统计局", answer)]


@pytest.mark.parametrize(
    ("introduction", "units"),
    [
        ("区委副书记、区长邵海在总结讲话中指出", ("区委", "区政府")),
        ("区委常委、常务副区长邵海作总结讲话。他要求", ("区委", "区政府")),
        ("区人大常委会副主任邵海说", ("区人大常委会",)),
    ],
)
def test_a_bare_district_head_post_after_another_post_is_a_post_of_the_district_government(
    introduction: str, units: tuple[str, ...]
) -> None:
    text = LEAD + introduction + "，要建立数据共享机制。\n"
    [speech] = detect_speeches(text)
    assert (speech.speaker, speech.units) == ("邵海", units)
    assert resolve_unit(speech, ["区政府", "区人大常委会"]) == units[-1]


def test_a_heading_that_is_a_byline_opens_its_speaker_s_section() -> None:
    first = "### 区统计局 林晓东：把数据用起来\n\n我们要建立数据共享机制。"
    second = "### 区商务局副局长 何平：外贸要有专窗\n\n建议开设外贸专窗。"
    text = f"## 发言摘登\n\n{first}\n\n{second}\n"
    assert found(text) == [("林晓东", "区统计局", first), ("何平", "区商务局", second)]


def test_a_paragraph_of_the_reporter_naming_the_zone_ends_a_byline_section() -> None:
    lead = "本报讯 6月3日，青溪经开区召开赴外地考察学习交流会。\n\n"
    section = "■ 区统计局 林晓东\n\n我们要建立数据共享机制。\n\n青溪经开区也要开放数据。"
    report = "近年来，青溪经开区数据工作取得成效，建成平台3个。"
    text = f"{lead}{section}\n\n{report}\n"
    assert found(text) == [("林晓东", "区统计局", section)]


@pytest.mark.parametrize(
    "goes_on",
    [
        "在人才服务方面，他建议设立人才驿站。",
        "据他介绍，当地设立了数据专窗。",
        "谈到下一步时，他表示要开放数据。",
    ],
)
def test_a_speech_goes_on_in_a_paragraph_with_he_says_after_a_lead_clause(goes_on: str) -> None:
    first = "区统计局局长林晓东说，外地把数据集中开放。"
    text = LEAD + f"{first}\n\n{goes_on}\n\n记者了解到，全区已建成数据平台3个。\n"
    assert found(text) == [("林晓东", "区统计局", f"{first}\n\n{goes_on}")]


def test_a_byline_within_a_paragraph_goes_on_in_paragraphs_in_the_first_person() -> None:
    said = "区统计局副局长 林晓东：外地把数据集中开放。\n\n对照外地，我们要建立数据共享机制。"
    text = f"{LEAD}{said}\n\n记者：对照外地，我区还差什么？\n\n全区已建成数据平台3个。\n"
    assert found(text) == [("林晓东", "区统计局", said)]


@pytest.mark.parametrize(
    "byline", ["文/区统计局 林晓东", "文／区统计局副局长 林晓东", "作者：区统计局 林晓东"]
)
def test_an_essay_s_byline_under_its_heading_opens_its_speech(byline: str) -> None:
    section = f"## 把数据用起来\n\n{byline}\n\n我们要建立数据共享机制。"
    text = f"# 学习体会选登\n\n{section}\n\n## 下一篇\n"
    assert found(text) == [("林晓东", "区统计局", section)]


@pytest.mark.parametrize("byline", ["文/本报记者 林晓东", "文/区融媒体中心 林晓东"])
def test_a_reporter_s_byline_opens_no_speech(byline: str) -> None:
    text = f"## 把数据用起来\n\n{byline}\n\n我们要建立数据共享机制。\n"
    assert found(text) == []


def test_a_unit_s_own_list_item_is_its_speech_and_a_task_s_is_none() -> None:
    first = "一、区统计局：建立数据共享机制；年内开放数据集100个。"
    second = "二、临港街道：设立数据服务站。"
    task = "三、加快建设高新区：推进数据平台建设。"
    text = f"{LEAD}会议听取了成员单位的建议，摘要如下：\n\n{first}\n\n{second}\n\n{task}\n"
    assert found(text) == [("区统计局", "区统计局", first), ("临港街道", "临港街道", second)]


def test_participants_listed_as_name_then_unit_and_post_answer_with_their_names() -> None:
    listed = "参加对话的是：林晓东，区统计局副局长，挂职于外地数据局；何平，区商务局招商科科长。"
    first = "林晓东：外地数据开放得早。"
    question = "问：那我们该怎么做？"
    again = "林晓东：我们要建立数据共享机制。"
    other = "何平：建议开设外贸专窗。"
    text = f"{LEAD}{listed}\n\n{first}\n\n{question}\n\n{again}\n\n问：何科长呢？\n\n{other}\n"
    assert found(text) == [
        ("林晓东", "区统计局", f"{first}\n\n{question}\n\n{again}"),
        ("何平", "区商务局", other),
    ]


def test_an_unnamed_official_speaks_for_their_unit_and_the_visited_place_s_do_not() -> None:
    lead = "本报讯 6月3日，高新区召开赴青岛西海岸新区考察学习座谈会。\n\n"
    theirs = "西海岸新区管委会负责人介绍，当地推行“要素跟着项目走”。"
    ours = "区统计局负责同志说，要建立数据共享机制。该负责同志还建议开放数据。"
    text = f"{lead}{theirs}\n\n{ours}\n"
    assert found(text) == [("区统计局负责同志", "区统计局", ours)]


def test_a_bare_post_after_a_sentence_about_its_unit_is_a_post_of_that_unit() -> None:
    paragraph = (
        "区统计局此次派出两名同志参加考察。副局长林晓东的汇报聚焦数据开放。"
        "林晓东提出，要建立数据共享机制。"
    )
    assert found(LEAD + paragraph + "\n") == [("林晓东", "区统计局", paragraph)]


def test_what_a_unit_s_person_s_view_is_opens_their_speech() -> None:
    paragraph = "区统计局林晓东的体会是，数据要用起来，我区要建立数据共享机制。"
    assert found(LEAD + paragraph + "\n") == [("林晓东", "区统计局", paragraph)]


def test_what_the_meeting_says_is_its_chair_s_remarks_up_to_the_chair_s_own_words() -> None:
    lead = "本报讯 区党工委召开会议。区党工委书记周海主持会议。\n\n"
    remarks = (
        "会议指出，外地经验值得学习。\n\n会议要求，各部门要建立任务清单。\n\n周海强调，要抓好落实。"
    )
    [speech] = detect_speeches(f"{lead}{remarks}\n\n全区已建成数据平台3个。\n")
    assert (speech.speaker, speech.unit, speech.remarks) == ("周海", "区党工委", True)
    assert f"{lead}{remarks}"[speech.start : speech.end] == remarks


def test_the_participants_speaking_as_one_speak_for_the_delegation() -> None:
    lead = "本报讯 区考察团一行赴厦门考察学习。\n\n"
    paragraph = "讨论环节气氛热烈。与会人员一致认为，要盘活低效用地。大家建议，试点“工业上楼”。"
    assert found(lead + paragraph + "\n") == [("与会人员", "考察团", paragraph)]


def test_hearing_someone_s_report_and_a_company_s_unnamed_head_open_no_speech() -> None:
    heard = "区统计局局长林晓东出席会议。\n\n会议听取了林晓东的汇报，全区已建成平台3个。\n"
    assert found(heard) == []
    company = LEAD + "数据科技公司负责人介绍，企业上云率达到九成。\n"
    assert found(company) == []


@pytest.mark.parametrize("byline", ["文｜区统计局 林晓东", "撰稿：区统计局 林晓东"])
def test_other_marks_of_an_essay_s_byline(byline: str) -> None:
    section = f"## 把数据用起来\n\n{byline}\n\n我们要建立数据共享机制。"
    assert found(f"{section}\n") == [("林晓东", "区统计局", section)]


@pytest.mark.parametrize("unit", ["区统计局", "市场监管局", "经开区党工委"])
def test_a_government_unit_at_a_paragraph_s_start_with_a_colon_speaks(unit: str) -> None:
    paragraph = f"{unit}：建立数据共享机制，年内开放数据集100个。"
    assert found(f"{LEAD}{paragraph}\n\n数据科技公司：我们上云了。\n") == [(unit, unit, paragraph)]


def test_participants_listed_in_sentences_of_their_own() -> None:
    listed = "参加座谈的有两位干部。林晓东，区统计局副局长。何平，区商务局科长。"
    answer = "林晓东：我们要建立数据共享机制。"
    assert found(f"{LEAD}{listed}\n\n{answer}\n") == [("林晓东", "区统计局", answer)]


def test_an_unnamed_official_with_a_qualifier_goes_on_as_the_official() -> None:
    said = "区统计局有关负责人表示，要建立数据共享机制。"
    goes_on = "该负责人还建议，年内开放数据集100个。"
    assert found(f"{LEAD}{said}\n\n{goes_on}\n\n全区已建成数据平台3个。\n") == [
        ("区统计局有关负责人", "区统计局", f"{said}\n\n{goes_on}")
    ]


def test_a_government_unit_saying_something_at_a_paragraph_s_start_speaks() -> None:
    said = "区统计局建议，建立数据共享机制。"
    goes_on = "该局还提出，年内开放数据集100个。"
    text = f"{LEAD}{said}\n\n{goes_on}\n\n全区已建成数据平台3个。\n"
    assert found(text) == [("区统计局", "区统计局", f"{said}\n\n{goes_on}")]


@pytest.mark.parametrize(
    "paragraph",
    ["西海岸新区管委会表示，要素跟着项目走。", "数据科技公司表示，企业上云率达到九成。"],
)
def test_the_place_visited_s_units_and_companies_saying_something_do_not_speak(
    paragraph: str,
) -> None:
    lead = "本报讯 6月3日，高新区召开赴青岛西海岸新区考察学习座谈会。\n\n"
    assert found(f"{lead}{paragraph}\n") == []


def test_a_section_signed_by_unit_and_name_apart_is_theirs_and_a_press_unit_s_is_not() -> None:
    section = "### 监管要有温度\n\n我们要推行“综合查一次”。\n\n（区统计局 林晓东）"
    assert found(f"{section}\n") == [("林晓东", "区统计局", section)]
    for credit in ("（区融媒体中心 林晓东）", "（区投资促进中心招商部）"):
        assert found(f"### 监管要有温度\n\n我们要推行“综合查一次”。\n\n{credit}\n") == []


def test_a_known_person_s_name_in_bold_and_a_colon_open_their_speech() -> None:
    answer = "**林晓东**：我们要建立数据共享机制。"
    text = LEAD + f"区统计局局长林晓东参加座谈。\n\n{answer}\n"
    assert found(text) == [("林晓东", "区统计局", answer)]


def test_the_delegation_s_members_speaking_as_one_and_what_the_forum_requires() -> None:
    lead = "本报讯 区考察组召开座谈会，区党工委书记周海主持。\n\n"
    members = "考察组成员一致认为，要盘活低效用地。"
    forum = "座谈会要求，各部门要建立任务清单。"
    found_speeches = found(f"{lead}{members}\n\n{forum}\n")
    assert found_speeches == [("考察组成员", "考察组", members), ("周海", "区党工委", forum)]


@pytest.mark.parametrize(
    "introduction",
    [
        "作为区统计局副局长，林晓东参加了座谈。",
        "林晓东系区统计局副局长。",
        "林晓东现任区统计局副局长。",
    ],
)
def test_a_person_introduced_as_holding_a_post_speaks_later(introduction: str) -> None:
    said = "林晓东说，要建立数据共享机制。"
    assert found(f"{LEAD}{introduction}\n\n{said}\n") == [("林晓东", "区统计局", said)]


def test_unnamed_answers_are_the_addressed_person_s_or_the_one_introduced() -> None:
    lead = "本报讯 记者专访了区统计局局长林晓东和区商务局科长何平。\n\n"
    first = "答：我们要建立数据共享机制。"
    again = "答：年内开放数据集100个。"
    other = "答：建议开设外贸专窗。"
    text = f"{lead}问：林局长，数据怎么开放？\n\n{first}\n\n问：还有呢？\n\n{again}\n\n"
    text += f"问：何科长，外贸呢？\n\n{other}\n"
    assert found(text) == [
        ("林晓东", "区统计局", f"{first}\n\n问：还有呢？\n\n{again}"),
        ("何平", "区商务局", other),
    ]
    alone = "本报讯 记者专访了区统计局局长林晓东。\n\n问：数据怎么开放？\n\n" + first + "\n"
    assert found(alone) == [("林晓东", "区统计局", first)]


def test_a_unit_s_name_in_brackets_opens_its_own_paragraph() -> None:
    paragraph = "【区统计局】建立数据共享机制，年内开放数据集100个。"
    assert found(f"{LEAD}{paragraph}\n\n【编者按】数据是基础。\n") == [
        ("区统计局", "区统计局", paragraph)
    ]


def test_a_bare_unit_name_saying_something_is_no_speaker() -> None:
    assert found(f"{LEAD}管委会表示，要素跟着项目走。\n") == []
