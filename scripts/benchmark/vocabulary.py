"""Chinese vocabulary for the benchmark data: the seed article and its 43 actions, and word
lists to vary them. Every string here is plain text without quotes or backslashes, so it can
be written into JSON by hand (see dataset._json)."""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from random import Random
from typing import TypeVar

from app.config import SEEDS_DIR
from app.seeding.schemas import SeedPlan
from app.seeding.service import load_plan

SEED_FILE = SEEDS_DIR / "xiuzhou-secondment.toml"
T = TypeVar("T")

EXTRA_UNITS = [
    *("区财政局", "区自然资源和规划分局", "区人力资源和社会保障局", "区市场监督管理局"),
    *("区应急管理局", "区统计局", "区审计局", "区教育体育局", "区卫生健康委员会", "区民政局"),
    *("区文化广电和旅游局", "区商务局", "区农业农村局", "区交通运输局", "区住房保障中心"),
    *("区政务服务和大数据管理局", "区税务局", "区公安分局", "区消防救援大队", "区司法局"),
    *("区信访局", "区党政办公室", "区纪工委监察工作办公室", "区组织人事部", "区宣传统战部"),
    *("区政策研究室", "区投资促进中心", "区企业服务中心", "区人才发展中心", "区城市管理局"),
    *("遵化店镇", "焦店镇", "智能制造产业园区", "新材料产业园区", "电子信息产业园区"),
    *("高新技术创业服务中心", "大学科技园", "区投资集团", "区城市发展公司"),
    *("区土地储备中心", "区不动产登记中心", "区公共资源交易中心"),
]
EXTRA_THEMES = ["数字政府", "人才引育", "安全生产", "乡村振兴", "基层治理", "财政金融"]

VERBS = ["推进", "深化", "完善", "建立", "探索", "落实", "优化", "加快", "健全", "强化"]
VERBS += ["开展", "推行", "试行", "规范", "提升"]
TOPICS = [
    *("企业开办", "工程建设项目审批", "亩均效益评价", "科技型中小企业培育", "人才公寓建设"),
    *("园区道路配套", "污水管网改造", "安全生产检查", "政务服务一网通办", "企业上市培育"),
    *("研发费用加计扣除", "高新技术企业认定", "专利质押融资", "产业基金运作", "闲置土地处置"),
    *("低效用地再开发", "重点项目并联审批", "工业互联网应用", "数字化车间改造", "校企合作"),
    *("就业技能培训", "惠企政策兑现", "营商环境评价", "涉企检查备案", "信用体系建设"),
    *("双创载体建设", "孵化器提质增效", "飞地园区合作", "干部挂职交流", "基层党组织建设"),
    *("网格化管理", "环保管家服务", "排污权交易", "区域环评", "标准化厂房建设"),
    *("产业链招商", "以商招商", "驻外招商", "招商引资考核", "项目谋划储备"),
]
OBJECTS = ["机制", "制度", "工作", "试点", "专项行动", "服务体系", "考核办法", "工作方案"]
OBJECTS += ["三年行动", "清单管理", "月度调度", "台账管理"]
TITLE_SUFFIXES = ["", "", "", "（二期）", "工作", "专项行动", "落实情况", "提升行动"]
GOALS = [
    *("形成可复制可推广的经验", "年底前完成阶段性任务", "切实减轻企业负担", "提高办事效率"),
    *("推动项目早落地早投产", "提升园区承载能力", "营造良好发展环境", "补齐发展短板"),
    *("增强企业获得感", "实现全流程闭环管理", "确保责任到人、按期完成", "推动高质量发展"),
]
STEPS = [
    *("已召开专题推进会，明确责任分工", "已完成实施方案初稿，报管委会审议"),
    *("已赴秀洲高新区对接学习，形成调研报告", "已与相关企业座谈，收集意见建议"),
    *("已完成前期摸底调查，建立工作台账", "已印发工作方案，进入实施阶段"),
    *("已完成年度目标任务的一半", "已协调解决企业反映的问题", "已组织第一批试点"),
    *("正在开展政策评估", "已纳入党工委会议议题", "已完成阶段性验收"),
]
BLOCK_REASONS = [
    *("受土地指标制约，暂缓推进", "配套资金尚未落实", "需等待上级政策出台"),
    *("涉及多个部门，协调难度大", "企业意向发生变化"),
]
DECLINE_REASONS = [
    *("与上级政策不符，不予采纳", "已有同类工作在推进，合并办理", "条件不成熟，暂不采纳"),
]
REOPEN_REASONS = ["验收发现问题，重新整改", "上级督查要求继续推进", "企业反映问题反弹"]
SEND_BACK_REASONS = ["佐证材料不全，退回补充", "成效不明显，退回重办"]
SUBMIT_NOTES = ["任务已完成，申请办结", "已完成验收，申请销号"]
RECONSIDER_REASONS = ["情况发生变化，重新研究", "上级出台新政策，重新提交研究"]
UPDATE_NOTES = ["据季度调度会调整", "按党工委会议要求调整", "根据单位职能调整", None, None]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = ["明", "伟", "芳", "娜", "静", "磊", "洋", "勇", "艳", "杰", "军", "丽", "强", "敏"]
GIVEN += ["晓东", "建国", "海燕", "志强", "红梅", "佳沛", "梦哲", "家宝", "琳琳"]
ACTOR_KEYS = ["bootstrap", "import", "zhang-ming", "li-na", "jingfa", "kechuang", "dashboard"]

_SENTENCE = re.compile(r"[^。！？；]+[。！？；]?")


@dataclass(frozen=True)
class Vocabulary:
    """What the generator draws from: the seed plan and the word lists above."""

    plan: SeedPlan
    article_sentences: list[str]
    people: list[str]
    actors: list[str]

    def unit_names(self, count: int) -> list[tuple[str, str]]:
        """(name, kind) of count units: the seed file's first, then the extra ones."""
        units = [(unit.name, str(unit.kind)) for unit in self.plan.units]
        for name in EXTRA_UNITS:
            kind = "park" if name.endswith(("园区", "科技园")) else "bureau"
            units.append((name, "other" if name.endswith(("公司", "集团", "镇")) else kind))
        for number in range(len(units), count):
            units.append((f"第{number + 1}工作专班", "other"))
        return units[:count]

    def theme_names(self) -> list[str]:
        """The seed file's themes, then a few more."""
        seeded = sorted({theme for action in self.plan.actions for theme in action.themes})
        return seeded + EXTRA_THEMES

    def title(self, rng: Random) -> str:
        """A seed title, varied, or a verb + topic + object one."""
        if rng.random() < 0.35:
            return _pick(rng, self.plan.actions).title + _pick(rng, TITLE_SUFFIXES)
        return _pick(rng, VERBS) + _pick(rng, TOPICS) + _pick(rng, OBJECTS)

    def detail(self, rng: Random, title: str, owner: str) -> str:
        """Two or three sentences about the action."""
        first = f"由{owner}牵头，{_pick(rng, VERBS)}{_pick(rng, TOPICS)}，{_pick(rng, GOALS)}。"
        middle = ""
        if rng.random() < 0.4:
            middle = _pick(rng, self.plan.actions).detail or f"围绕“{title}”细化任务。"
        return f"{first}{middle}{_pick(rng, GOALS)}，每月报送进展。"

    def generated_sentence(self, rng: Random) -> str:
        """A proposal-like sentence for the composed sources."""
        proposal = _pick(rng, VERBS) + _pick(rng, TOPICS) + _pick(rng, OBJECTS)
        return f"建议{proposal}，{_pick(rng, GOALS)}。"


def _pick(rng: Random, items: Sequence[T]) -> T:
    return items[int(rng.random() * len(items))]


def load_vocabulary() -> Vocabulary:
    """The seed plan, the article's sentences, and name pools."""
    plan = load_plan(SEED_FILE)
    sentences = [
        sentence.strip()
        for line in plan.text.split("\n")
        if line.strip() and not line.startswith("#")
        for sentence in _SENTENCE.findall(line.strip())
        if 8 <= len(sentence.strip()) <= 120
    ]
    people = [surname + given for surname in SURNAMES for given in GIVEN]
    actors = ACTOR_KEYS + [f"{unit.name}-{people[i]}" for i, unit in enumerate(plan.units)]
    return Vocabulary(plan=plan, article_sentences=sentences, people=people, actors=actors)
