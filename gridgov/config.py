"""Settings from the environment (``GRIDGOV_*``) or a TOML config file.

Precedence: explicit arguments > environment > config file (``GRIDGOV_CONFIG`` or
``<data_dir>/gridgov.toml``) > defaults.
"""

from __future__ import annotations

import os
import re
import tomllib
from datetime import time
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

PLACEHOLDER_SECRET = "change-me"


class _TomlFileSource(PydanticBaseSettingsSource):
    """Reads ``GRIDGOV_CONFIG`` or ``<data_dir>/gridgov.toml`` if it exists."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        path = os.environ.get("GRIDGOV_CONFIG")
        if not path:
            data_dir = os.environ.get("GRIDGOV_DATA_DIR", "gridgov-data")
            path = str(Path(data_dir) / "gridgov.toml")
        p = Path(path)
        if not p.is_file():
            return {}
        with p.open("rb") as fh:
            data = tomllib.load(fh)
        return data.get("gridgov", data)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GRIDGOV_", extra="ignore")

    data_dir: Path = Path("gridgov-data")
    database_url: str | None = None
    # Connections per app worker process (PostgreSQL): the pool keeps db_pool_size open and
    # opens up to db_max_overflow more under load. Size it so workers × (size + overflow) stays
    # below the server's max_connections; requests beyond it wait db_pool_timeout seconds.
    db_pool_size: int = Field(10, ge=1, le=500)
    db_max_overflow: int = Field(30, ge=0, le=500)
    db_pool_timeout: float = Field(30.0, gt=0)
    # Requests an app worker handles at once (FastAPI runs sync endpoints on a thread pool,
    # 40 threads by default); the rest wait their turn in order. More threads only share one
    # GIL, and past db_pool_size every extra request opens and closes its own PostgreSQL
    # connection (bench/intake.py, PostgreSQL, 50 concurrent reporters, runs minutes apart: 8
    # threads 64 reports/s with a p99 of 1.6 s, 40 threads 46/s and 4.2 s).
    request_threads: int = Field(8, ge=1, le=200)
    environment: Literal["development", "production", "test"] = "development"
    secret_key: str = PLACEHOLDER_SECRET
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    timezone: str = "Asia/Shanghai"
    # CJ/T 213 numbers unit grids with 2 digits inside a community; Beijing-style deployments use 3.
    grid_seq_digits: Literal[2, 3] = 2
    # Topology checks ignore gaps and overlaps smaller than this (m²): digitising noise.
    topology_tolerance_m2: float = Field(1.0, ge=0)
    default_grid_area_m2: float = Field(10_000.0, gt=0)
    language: Literal["zh-CN", "en"] = "zh-CN"
    # Accounts: a login lasts this long; N failed logins lock the account for M minutes.
    session_hours: int = Field(12, ge=1, le=24 * 90)
    login_max_failures: int = Field(5, ge=1)
    login_lockout_minutes: int = Field(15, ge=1)
    # Notifications: the log channel is always on; SMS and webhook channels switch on with a URL.
    notify_sms_url: str | None = None
    notify_sms_token: str = ""
    notify_webhook_url: str | None = None
    notify_webhook_secret: str = ""
    notify_timeout_seconds: float = Field(5.0, gt=0)
    # A failed delivery is retried after 1, 2, 4 … minutes (capped) until it is marked dead.
    notify_max_attempts: int = Field(8, ge=1)
    notify_backoff_base_minutes: float = Field(1.0, gt=0)
    notify_backoff_max_minutes: float = Field(60.0, gt=0)
    # Media (照片): uploads larger than this are refused (413); anonymous and resident uploads
    # are limited per IP address (or per resident) and minute (429).
    media_max_bytes: int = Field(10 * 1024 * 1024, ge=1024)
    media_public_per_minute: int = Field(20, ge=1)
    # Where photos live: "filesystem" (<data_dir>/media) or an S3-compatible object store
    # (MinIO, Ceph RGW, OSS/COS/OBS S3 APIs, AWS S3). With "s3", bucket and endpoint are required;
    # without an access key boto3's own credential chain (instance role ...) is used.
    media_store: Literal["filesystem", "s3"] = "filesystem"
    s3_endpoint_url: str | None = None
    s3_bucket: str | None = None
    s3_access_key: str | None = None
    s3_secret_key: SecretStr | None = None
    s3_region: str = "us-east-1"
    s3_prefix: str = "media/"
    # "path" (http://host/bucket/key) suits MinIO and most S3-compatible servers.
    s3_addressing_style: Literal["path", "virtual", "auto"] = "path"
    # Intake channels: the HMAC-SHA256 secret of the IoT / video-patrol alarm webhook (empty: the
    # webhook is off) and the username of the acceptor account whose jurisdiction alarms and
    # admin-run hotline imports are filed under (受理账号).
    iot_webhook_secret: str = ""
    intake_account: str = "intake"
    # Working calendar (工作日历): office hours as local "HH:MM-HH:MM" periods, comma-separated,
    # in order and not overlapping. Deadlines in working hours / days count only these periods.
    office_hours: str = "08:30-12:00,13:30-17:30"
    # Patrol (巡查): positions per batch; how far a phone's clock may run ahead of the server (or
    # a position precede its patrol's start) before the position is refused; how long a patrol
    # without a new position still shows on the live map.
    patrol_max_batch: int = Field(500, ge=1, le=10_000)
    patrol_clock_skew_minutes: float = Field(10.0, ge=0, le=24 * 60)
    patrol_live_minutes: int = Field(30, ge=1, le=24 * 60)
    # Public tracking (公众查询): the HMAC secret of residents' tracking codes (empty: derived from
    # secret_key; set it on its own so that rotating secret_key keeps issued codes valid), and
    # per-minute limits per IP address (or resident) of public reports and lookups (429).
    tracking_secret: str = ""
    public_reports_per_minute: int = Field(10, ge=1)
    public_lookups_per_minute: int = Field(60, ge=1)
    # Resident self sign-up (居民注册) per minute per IP address (429 beyond).
    public_signups_per_minute: int = Field(3, ge=1)
    # Dashboard (领导驾驶舱): the event stream polls a change marker every dashboard_poll_seconds,
    # sends a heartbeat comment every dashboard_heartbeat_seconds and ends after
    # dashboard_stream_max_seconds (the browser reconnects); map layers hold at most
    # dashboard_map_max_cases cases.
    dashboard_poll_seconds: float = Field(1.0, gt=0, le=60)
    dashboard_heartbeat_seconds: float = Field(15.0, gt=0, le=600)
    dashboard_stream_max_seconds: float = Field(1800.0, gt=0)
    dashboard_map_max_cases: int = Field(5000, ge=1, le=100_000)
    # Duplicate candidates (合并候选): open cases of the same subclass within this many metres,
    # reported within the last N days, are offered for merging (GET /api/cases/{no}/duplicates).
    case_duplicate_radius_m: float = Field(50.0, gt=0, le=5000)
    case_duplicate_days: int = Field(7, ge=1, le=365)

    @field_validator("data_dir")
    @classmethod
    def _expand(cls, v: Path) -> Path:
        return v.expanduser()

    @field_validator("office_hours")
    @classmethod
    def _check_office_hours(cls, v: str) -> str:
        parse_office_hours(v)  # raises ValueError naming the bad part
        return v

    @property
    def office_periods(self) -> tuple[tuple[time, time], ...]:
        """:attr:`office_hours` as ``(open, close)`` local times."""
        return parse_office_hours(self.office_hours)

    @field_validator("s3_prefix")
    @classmethod
    def _check_s3_prefix(cls, v: str) -> str:
        v = v.lstrip("/")
        if ".." in v.split("/"):
            raise ValueError("s3_prefix must not contain '..' segments")
        return v

    @model_validator(mode="after")
    def _check_media_store(self) -> Settings:
        if self.media_store != "s3":
            return self
        missing = [
            f"GRIDGOV_{name.upper()}"
            for name in ("s3_bucket", "s3_endpoint_url")
            if not (getattr(self, name) or "").strip()
        ]
        if missing:
            raise ValueError(
                f"media_store is 's3' but {' and '.join(missing)} "
                f"{'is' if len(missing) == 1 else 'are'} not set; set "
                "GRIDGOV_S3_BUCKET and GRIDGOV_S3_ENDPOINT_URL (e.g. http://127.0.0.1:9000), "
                "or use GRIDGOV_MEDIA_STORE=filesystem"
            )
        endpoint = (self.s3_endpoint_url or "").strip()
        if not endpoint.startswith(("http://", "https://")):
            raise ValueError(
                f"GRIDGOV_S3_ENDPOINT_URL must start with http:// or https://, not {endpoint!r}"
            )
        if (self.s3_access_key is None) != (self.s3_secret_key is None):
            raise ValueError(
                "set both GRIDGOV_S3_ACCESS_KEY and GRIDGOV_S3_SECRET_KEY, or neither "
                "(then boto3's own credential chain is used)"
            )
        return self

    @model_validator(mode="after")
    def _refuse_insecure_production(self) -> Settings:
        if self.environment == "production" and self.secret_key == PLACEHOLDER_SECRET:
            raise ValueError("GRIDGOV_SECRET_KEY must be set to a real secret in production")
        return self

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'gridgov.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.db_url.startswith("sqlite")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _TomlFileSource(settings_cls))


_PERIOD = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-–~]\s*(\d{1,2}):(\d{2})\s*$")


def parse_office_hours(text: str) -> tuple[tuple[time, time], ...]:
    """Parse office hours such as ``"08:30-12:00,13:30-17:30"`` into ``(open, close)`` pairs.

    Raises ``ValueError`` naming the bad part: not ``HH:MM-HH:MM``, a time out of range, a period
    that does not open before it closes, or periods out of order or overlapping.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError("office_hours must list at least one period such as 08:30-12:00")
    periods: list[tuple[time, time]] = []
    for part in text.split(","):
        m = _PERIOD.match(part)
        if not m:
            raise ValueError(f"office_hours period {part.strip()!r} is not HH:MM-HH:MM")
        try:
            opens = time(int(m[1]), int(m[2]))
            closes = time(int(m[3]), int(m[4]))
        except ValueError:
            raise ValueError(f"office_hours period {part.strip()!r} has an invalid time") from None
        if opens >= closes:
            raise ValueError(f"office_hours period {part.strip()!r} must open before it closes")
        if periods and opens < periods[-1][1]:
            raise ValueError(
                f"office_hours period {part.strip()!r} overlaps or precedes the previous one"
            )
        periods.append((opens, closes))
    return tuple(periods)


@lru_cache
def get_settings() -> Settings:
    return Settings()
