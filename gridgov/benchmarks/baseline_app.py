"""Baseline for the intake benchmark: the smallest insert-only endpoint on gridgov's stack.

FastAPI, a pydantic body, a synchronous route with an SQLAlchemy session from
:func:`gridgov.db.session_factory` on the engine of ``GRIDGOV_DATABASE_URL``, one INSERT into a
trivial table and a commit. No auth, geocoding, workflow or audit: what case creation costs on
top of this is what the benchmark's ``ratio`` shows. Not part of the product app.

    uvicorn gridgov.benchmarks.baseline_app:create_app --factory --workers 2
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import FastAPI
from pydantic import BaseModel, Field
from sqlalchemy import Column, DateTime, Engine, Float, Integer, MetaData, String, Table, insert

from gridgov.config import get_settings
from gridgov.db import get_engine, session_factory

#: Its own metadata: the table is never part of the product schema or its migrations.
metadata = MetaData()
baseline_row = Table(
    "bench_baseline_row",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("description", String(2000), nullable=False),
    Column("lon", Float, nullable=False),
    Column("lat", Float, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)


class BaselineIn(BaseModel):
    """A report reduced to what the row stores."""

    description: str = Field(min_length=1, max_length=2000)
    lon: float
    lat: float


class BaselineOut(BaseModel):
    """The new row's id."""

    id: int


def create_table(engine: Engine) -> None:
    """Create the baseline table (before the workers start, so they never race on DDL)."""
    metadata.create_all(engine)


def create_app() -> FastAPI:
    """The baseline app on the engine of the current settings (``GRIDGOV_DATABASE_URL``)."""
    engine = get_engine(get_settings())
    make_session = session_factory(engine)
    app = FastAPI(title="gridgov intake benchmark baseline")

    @app.post("/baseline", status_code=201, response_model=BaselineOut)
    def create(body: BaselineIn) -> BaselineOut:
        """Insert one row and commit."""
        with make_session() as session:
            new_id = session.execute(
                insert(baseline_row)
                .values(
                    description=body.description,
                    lon=body.lon,
                    lat=body.lat,
                    created_at=datetime.now(UTC),
                )
                .returning(baseline_row.c.id)
            ).scalar_one()
            session.commit()
        return BaselineOut(id=new_id)

    return app
