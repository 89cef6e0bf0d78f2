"""Response bodies of the dashboard API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel


class TodayCounts(BaseModel):
    """今日: cases reported (上报), first registered (立案) and closed (结案) today."""

    reported: int
    registered: int
    closed: int


class LightCounts(BaseModel):
    """Open cases whose worst running deadline is yellow (黄灯) or red (红灯, overdue)."""

    yellow: int
    red: int


class SupervisionCounts(BaseModel):
    """Open cases by their latest 督办 level."""

    normal: int
    yellow: int
    red: int


class OpenOverdue(BaseModel):
    code: str
    name: str | None
    open: int
    overdue: int


class SubclassCount(BaseModel):
    kind: str
    code: str
    name: str | None
    count: int


class TopSubclasses(BaseModel):
    """The most reported subclasses since Monday 00:00 of this week (本周)."""

    since: datetime
    items: list[SubclassCount]


class TrendDay(BaseModel):
    day: str  # local date, YYYY-MM-DD
    reported: int
    closed: int


class RankingItem(BaseModel):
    rank: int
    department_code: str
    department_name: str | None
    on_time: int  # numerator: 按期结案数
    due: int  # denominator: 应结案数
    closed: int  # 结案数
    overdue_open: int  # 逾期未结数
    rate: float | None


class Ranking(BaseModel):
    """Departments by 按期结案率 over the period, with the definition shown next to it."""

    indicator: str
    name: str
    formula: str
    definition: str
    definition_en: str
    since: datetime
    until: datetime
    items: list[RankingItem]


class SummaryRead(BaseModel):
    at: datetime
    timezone: str
    today: TodayCounts
    open: int
    open_by_state: dict[str, int]
    lights: LightCounts
    supervision: SupervisionCounts
    streets: list[OpenOverdue]
    departments: list[OpenOverdue]
    top_subclasses: TopSubclasses
    trend: list[TrendDay]
    ranking: Ranking


class GridDensity(BaseModel):
    reported: int
    open: int
    overdue: int


class DensityRead(BaseModel):
    """Cases per unit grid (choropleth): ``grids`` maps grid code → counts (community or
    street code at those levels)."""

    since: datetime
    days: int
    at: datetime
    level: Literal["grid", "community", "street"] = "grid"
    grids: dict[str, GridDensity]
    max: GridDensity
