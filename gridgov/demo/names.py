"""Chinese names for the demo district: roads, streets (街道), communities (社区), compounds (小区).

The word lists are data. :class:`NamePool` draws unique names from them in a seeded order, so the
same seed always names the same road the same way, and a large scale never runs out of names
(it falls back to numbered variants such as ``炒豆二巷``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _words(text: str) -> tuple[str, ...]:
    """Space-separated words, duplicates dropped, order kept."""
    return tuple(dict.fromkeys(text.split()))


CITY_CODE = "110000"
CITY_NAME = "北京市"
CITY_POPULATION = 21_893_095  # 第七次全国人口普查

#: Fictional districts, in the order used when the demo spans more than one code.
DISTRICT_NAMES = ("东华区", "西华区", "南华区", "北华区", "中华区", "安华区", "永华区", "和华区")

# Two- and three-character place words that sound like old Beijing (胡同、门、桥、坊、寺 …).
PLACE_WORDS = _words(
    "东四 西四 交道口 北新桥 东直门 安定门 朝阳门 建国门 东华门 景山 和平里 东单 灯市口 王府井 "
    "金宝 禄米仓 南锣 北锣 帽儿 雨儿 菊儿 炒豆 板厂 东棉花 黑芝麻 前圆恩寺 后圆恩寺 秦老 福祥 "
    "蓑衣 小经厂 大经厂 府学 国子监 方家 箭厂 五道营 戏楼 钟鼓 草厂 北池子 南池子 黄化门 "
    "沙滩 东厂 织染局 钱粮 隆福寺 美术馆 演乐 本司 史家 内务部 礼士 豆瓣 西总布 东总布 "
    "新鲜 遂安伯 赵堂子 贡院 苏州 船板 喜鹊 水磨 汪芝麻 察院 铁狮子 张自忠 细管 香饵 "
    "分司厅 府学 宽街 吉祥 东吉祥 西扬威 北兵马司 南兵马司 东不压桥 地安门 鼓楼 宝钞 "
    "大兴 东旺 北官厅 前鼓楼 后鼓楼 藏经馆 青龙 土儿 花园 酒醋局 海运仓 仓南 仓夹道 "
    "新太仓 北门仓 南门仓 富新仓 东四十条 香河园 柳荫 青年湖 地坛 雍和 官书院 五显庙 "
    "炮局 簸箕 大取灯 小取灯 育树 安乐林 永外 光明 龙潭 天坛 东花市 崇文门 磁器口 "
    "花市 缨子 手帕 蒜市口 薛家湾 南岗子 法华寺 体育馆 幸福 绿景 左安 定安 祈年 金鱼池 "
    "前门 大栅栏 鲜鱼口 长巷 草厂 兴隆 打磨厂 西打磨厂 冰窖 芦草园 銮庆 东兴隆 协作 桥湾 "
    "榄杆市 北桥湾 翟家 銮驾库 沙井 油漆作 东板桥 嵩祝院 三眼井 吉安所 骑河楼 妞妞房 "
    "智德 翠花 椿树 取灯 多福 拐棒 慈慧 烟袋 菊花 米市 灯草 红星 秦家 魏家 孙家 "
    "东堂子 西堂子 干面 外交部 大羊宜宾 小羊宜宾 牌坊 北极阁 东观音寺 洋溢 栖凤楼"
)

# Words used to build compound (小区) names: 和平里, 幸福家园, 青年湖北里 …
COMPOUND_STEMS = _words(
    "和平 幸福 光明 安华 新景 金台 华侨 惠新 青年 春秀 祈年 永安 安乐 龙潭 东花 新中 "
    "育新 望坛 景泰 富贵 安贞 民安 新源 化工 地坛 柳芳 南岗 绿景 定安 长青 百荣 中纺 "
    "东环 西环 北环 南环 工体 三元 文华 锦绣 嘉园 翠微 芳城 宝华 世纪 华龙 建华 国瑞"
)
COMPOUND_SUFFIXES = ("里", "小区", "家园", "北里", "南里", "东里", "西里", "苑", "花园", "嘉园")

ORDINALS = (
    "头",
    "二",
    "三",
    "四",
    "五",
    "六",
    "七",
    "八",
    "九",
    "十",
    "十一",
    "十二",
    "十三",
    "十四",
)

MAIN_SUFFIXES_NS = ("北大街", "南大街")  # a north–south main road, split at its middle
MAIN_SUFFIXES_EW = ("西大街", "东大街")  # an east–west main road, west half first
MAIN_SUFFIXES_OTHER = ("大街", "路", "斜街")
SECONDARY_SUFFIXES = ("街", "路", "北街", "南街", "东街", "西街", "北路", "南路", "东路", "西路")
MINOR_SUFFIXES = (
    "胡同",
    "胡同",
    "胡同",
    "巷",
    "夹道",
    "北巷",
    "南巷",
    "东巷",
    "西巷",
    "大院",
    "前巷",
    "后巷",
)
MINOR_PREFIXES = ("", "", "", "东", "西", "南", "北", "前", "后", "大", "小")

#: Door-plate style street names (街道) are place words + 街道.
STREET_SUFFIX = "街道"
COMMUNITY_SUFFIX = "社区"
COMMUNITY_MODIFIERS = ("", "东", "西", "南", "北", "中", "前", "后")

SCHOOL_NAMES = ("第{n}中学", "第{n}小学", "实验小学", "外国语学校", "职业学校")
HOSPITAL_NAMES = ("第{n}人民医院", "中医医院", "妇幼保健院", "社区卫生服务中心")
OFFICE_NAMES = ("大厦", "中心", "商务楼", "科技大厦", "国际中心")
SHOP_NAMES = ("商场", "百货", "市场", "商业楼")


class NamePool:
    """Unique names drawn in a seeded order from candidate lists.

    ``take()`` returns names that have not been handed out by this pool; when the candidates are
    exhausted it appends a Chinese ordinal (``二``, ``三`` …) to reused candidates.
    """

    def __init__(self, candidates: Sequence[str], rng: np.random.Generator) -> None:
        unique = list(dict.fromkeys(candidates))
        order = rng.permutation(len(unique))
        self._candidates = [unique[i] for i in order]
        self._next = 0
        self._round = 0
        self.used: set[str] = set()

    def take(self) -> str:
        while True:
            if self._next >= len(self._candidates):
                self._next = 0
                self._round += 1
            name = self._candidates[self._next]
            self._next += 1
            if self._round:
                name = _with_round(name, self._round)
            if name not in self.used:
                self.used.add(name)
                return name


def _with_round(name: str, round_: int) -> str:
    """``炒豆胡同`` → ``炒豆二胡同`` (the second reuse of a candidate)."""
    ordinal = ORDINALS[round_ % len(ORDINALS)] if round_ < len(ORDINALS) else str(round_ + 1)
    for suffix in (*MINOR_SUFFIXES, *SECONDARY_SUFFIXES, "大街", "路", STREET_SUFFIX, "社区"):
        if name.endswith(suffix) and len(name) > len(suffix):
            return f"{name[: -len(suffix)]}{ordinal}{suffix}"
    return f"{name}{ordinal}"


def main_road_bases(rng: np.random.Generator) -> NamePool:
    """Place words for main roads (东四 → 东四北大街 / 东四南大街)."""
    return NamePool(PLACE_WORDS, rng)


def secondary_road_names(rng: np.random.Generator) -> NamePool:
    return NamePool([w + s for w in PLACE_WORDS for s in SECONDARY_SUFFIXES], rng)


def minor_road_names(rng: np.random.Generator) -> NamePool:
    """Hutongs and lanes: 炒豆胡同, 北帽儿巷, 北新桥三条 …"""
    names = [p + w + s for w in PLACE_WORDS for p in MINOR_PREFIXES for s in MINOR_SUFFIXES]
    names += [w + o + "条" for w in PLACE_WORDS for o in ORDINALS]
    return NamePool(names, rng)


def street_names(rng: np.random.Generator) -> NamePool:
    return NamePool([w + STREET_SUFFIX for w in PLACE_WORDS], rng)


def community_names(rng: np.random.Generator) -> NamePool:
    return NamePool(
        [w + m + COMMUNITY_SUFFIX for w in PLACE_WORDS for m in COMMUNITY_MODIFIERS], rng
    )


def compound_names(rng: np.random.Generator) -> NamePool:
    return NamePool([s + x for s in COMPOUND_STEMS for x in COMPOUND_SUFFIXES], rng)
