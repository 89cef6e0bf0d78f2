"""The ``gridgov`` command line (Typer)."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.orm import Session

from gridgov.config import Settings, get_settings
from gridgov.errors import GridgovError, ImportRejected

app = typer.Typer(
    help="gridgov — 网格化城市治理平台 (grid governance platform)", no_args_is_help=True
)
db_app = typer.Typer(help="Database schema", no_args_is_help=True)
grids_app = typer.Typer(help="Unit grids: division, validation, grid sets", no_args_is_help=True)
bench_app = typer.Typer(help="Benchmarks (print JSON)", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(grids_app, name="grids")
app.add_typer(bench_app, name="bench")

console = Console()
err = Console(stderr=True)

DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="data directory (env GRIDGOV_DATA_DIR)", show_default=False),
]


def _settings(data_dir: Path | None = None, **overrides: Any) -> Settings:
    if data_dir is not None:
        os.environ["GRIDGOV_DATA_DIR"] = str(data_dir)
    for key, value in overrides.items():
        if value is not None:
            os.environ[f"GRIDGOV_{key.upper()}"] = str(value)
    get_settings.cache_clear()
    return get_settings()


def _fail(exc: GridgovError) -> None:
    err.print(f"[bold red]错误 / error:[/] {exc.message}")
    if exc.where:
        err.print("  " + ", ".join(f"{k}={v}" for k, v in exc.where.items()))
    if isinstance(exc, ImportRejected) and exc.problems:
        # One line per problem (not a table): codes and coordinates must never be truncated.
        for i, p in enumerate(exc.problems[:50], 1):
            where = []
            if p.get("feature") or p.get("row"):
                where.append(f"feature {p.get('feature') or p.get('row')}")
            if p.get("field"):
                where.append(f"field {p['field']}")
            if p.get("location"):
                where.append("at {:.6f}, {:.6f}".format(*p["location"]))
            detail = f" ({'; '.join(where)})" if where else ""
            err.print(
                f"  {i:>3}. [{p.get('kind', 'invalid')}] {p.get('message', '')}{detail}",
                soft_wrap=True,
                highlight=False,
            )
        if len(exc.problems) > 50:
            err.print(f"  … and {len(exc.problems) - 50} more")
    raise typer.Exit(2)


@contextmanager
def _work(data_dir: Path | None) -> Iterator[tuple[Session, Settings]]:
    """A committed session on the data directory; a domain error becomes a message and exit 2."""
    from gridgov.db import session_scope

    settings = _settings(data_dir)
    try:
        with session_scope(_engine(settings)) as session:
            yield session, settings
    except GridgovError as exc:
        _fail(exc)


def _engine(settings: Settings):  # type: ignore[no-untyped-def]
    from gridgov import migrate
    from gridgov.db import get_engine

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = get_engine(settings)
    migrate.upgrade(engine)
    return engine


@db_app.command("upgrade")
def db_upgrade(data_dir: DataDir = None) -> None:
    """Create or migrate the schema to the latest version."""
    settings = _settings(data_dir)
    _engine(settings)
    console.print(f"schema up to date: {settings.db_url}")


@db_app.command("check")
def db_check(data_dir: DataDir = None) -> None:
    """Fail if the models and the migrations disagree."""
    from gridgov import migrate

    migrate.check(_engine(_settings(data_dir)))
    console.print("models and migrations agree")


def _progress_bar() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description:<24}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=console,
    )


@app.command()
def demo(
    port: Annotated[int, typer.Option(help="HTTP port")] = 8000,
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    data_dir: DataDir = None,
    scale: Annotated[float, typer.Option(help="size of the demo district (1 ≈ Dongcheng)")] = 1.0,
    serve: Annotated[bool, typer.Option(help="start the server after loading")] = True,
    history_days: Annotated[
        int, typer.Option(min=0, max=60, help="days of case history driven through the workflow")
    ] = 21,  # gridgov.demo.load.HISTORY_DAYS (not imported: the CLI starts without the demo)
) -> None:
    """Load the demo district into the data directory (first start only) and serve it."""
    settings = _settings(data_dir or Path(os.environ.get("GRIDGOV_DATA_DIR", "gridgov-data")))
    from gridgov.db import session_scope
    from gridgov.demo.load import is_loaded, load_demo

    t0 = time.perf_counter()
    engine = _engine(settings)
    with session_scope(engine) as session:
        loaded = is_loaded(session)
    if loaded:
        console.print(f"reusing the demo data in {settings.data_dir.resolve()}")
    else:
        console.print(f"building the demo district in {settings.data_dir.resolve()} …")
        with _progress_bar() as bar:
            task = bar.add_task("demo", total=1.0)

            def progress(stage: str, fraction: float) -> None:
                bar.update(task, completed=fraction, description=stage[:24])

            try:
                summary = load_demo(
                    engine,
                    scale=scale,
                    settings=settings,
                    progress=progress,
                    history_days=history_days,
                )
            except GridgovError as exc:
                _fail(exc)
        console.print(
            f"demo loaded: {summary.regions} regions, {summary.grids} unit grids, "
            f"{summary.roads} roads, {summary.buildings} buildings, {summary.addresses} addresses, "
            f"{summary.supervisors} supervisors, {summary.components} components, "
            f"{summary.cases} cases of history"
        )
    console.print(f"ready in {time.perf_counter() - t0:.1f} s")
    if serve:
        _serve(settings, host, port)


def _serve(settings: Settings, host: str, port: int, workers: int = 1) -> None:
    import uvicorn

    console.print(f"[bold green]gridgov[/] on http://{host}:{port}/  (Ctrl+C to stop)")
    if workers > 1:
        uvicorn.run("gridgov.asgi:app", host=host, port=port, workers=workers, log_level="warning")
    else:
        from gridgov.app import create_app, freeze_heap

        app = create_app(settings)
        freeze_heap()
        uvicorn.run(app, host=host, port=port, log_level="warning")


@app.command()
def serve(
    port: Annotated[int, typer.Option(help="HTTP port")] = 8000,
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    workers: Annotated[int, typer.Option(help="worker processes")] = 1,
    data_dir: DataDir = None,
) -> None:
    """Serve the API and the web pages."""
    settings = _settings(data_dir)
    _engine(settings)
    _serve(settings, host, port, workers)


@app.command("import")
def import_file(
    layer: Annotated[str, typer.Argument(help="regions | grids | roads | buildings | gazetteer")],
    path: Annotated[Path, typer.Argument(help="GeoJSON, Shapefile, GeoPackage (gazetteer: CSV)")],
    layer_name: Annotated[
        str | None, typer.Option("--layer", help="layer inside a GeoPackage")
    ] = None,
    encoding: Annotated[str | None, typer.Option(help="text encoding, e.g. GBK")] = None,
    append: Annotated[bool, typer.Option(help="roads/buildings: add instead of replacing")] = False,
    data_dir: DataDir = None,
) -> None:
    """Import a file. Everything is validated first; a bad file changes nothing."""
    with _work(data_dir) as (session, settings), _progress_bar() as bar:
        task = bar.add_task(f"import {layer}", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        if layer == "gazetteer":
            from gridgov.gazetteer.service import import_csv

            n = import_csv(session, path, encoding=encoding, progress=progress)
            console.print(f"imported {n} addresses from {path}")
            return
        from gridgov.layers import IMPORTERS

        if layer not in IMPORTERS:
            raise GridgovError(
                f"unknown layer {layer!r}; choose one of {', '.join([*IMPORTERS, 'gazetteer'])}",
                field="layer",
            )
        opts: dict[str, Any] = {"layer": layer_name, "encoding": encoding}
        if layer in ("roads", "buildings"):
            opts["mode"] = "append" if append else "replace"
        summary = IMPORTERS[layer](session, path, settings=settings, progress=progress, **opts)
    console.print(f"imported: {summary}")


@app.command("export")
def export_file(
    layer: Annotated[str, typer.Argument(help="regions | grids | roads | buildings | gazetteer")],
    path: Annotated[Path, typer.Argument(help=".geojson, .shp or .gpkg (gazetteer: .csv)")],
    region: Annotated[str | None, typer.Option(help="only this region's grids")] = None,
    data_dir: DataDir = None,
) -> None:
    """Export a layer to a file."""
    with _work(data_dir) as (session, _):
        if layer == "gazetteer":
            from gridgov.gazetteer.service import export_csv

            n = export_csv(session, path)
        else:
            from gridgov.layers import EXPORTERS

            if layer not in EXPORTERS:
                raise GridgovError(f"unknown layer {layer!r}", field="layer")
            n = EXPORTERS[layer](session, path, region_code=region)
    console.print(f"exported {n} features to {path}")


@grids_app.command("validate")
def grids_validate(data_dir: DataDir = None) -> None:
    """Check the stored grid layer: inside communities, no overlaps, no gaps."""
    from gridgov.regions.service import validate_current_grids

    with _work(data_dir) as (session, settings):
        problems = validate_current_grids(session, tolerance_m2=settings.topology_tolerance_m2)
    if not problems:
        console.print(
            "[green]grid layer is valid[/]: no gaps, overlaps or grids outside communities"
        )
        return
    _fail(ImportRejected(f"{len(problems)} topology problems", [p.to_dict() for p in problems]))


@grids_app.command("divide")
def grids_divide(
    community: Annotated[str, typer.Option(help="12-digit community code")],
    lines: Annotated[
        Path | None, typer.Option(help="file of dividing lines (roads, rivers, walls)")
    ] = None,
    buildings: Annotated[
        Path | None, typer.Option(help="file of building footprints not to cut")
    ] = None,
    use_stored: Annotated[bool, typer.Option(help="also use stored roads and buildings")] = True,
    target_area: Annotated[float, typer.Option(help="target grid area in m²")] = 10_000.0,
    balance: Annotated[
        float, typer.Option(min=0, max=1, help="0 = equal areas, 1 = equal building counts")
    ] = 0.5,
    output: Annotated[
        Path | None, typer.Option(help="write the grids to this file instead of saving")
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Cut a community into unit grids along lines, toward a target area and balanced counts."""
    from gridgov.regions.division import divide_community

    with _work(data_dir) as (session, settings):
        result = divide_community(
            session,
            community,
            settings=settings,
            lines_file=lines,
            buildings_file=buildings,
            use_stored=use_stored,
            target_area_m2=target_area,
            balance=balance,
            output=output,
        )
    console.print(result.summary())


@grids_app.command("set")
def grids_set(
    code: Annotated[str, typer.Argument(help="grid set code")],
    kind: Annotated[str, typer.Option(help="responsibility | professional")],
    name: Annotated[str, typer.Option(help="display name")],
    grids: Annotated[str, typer.Option(help="comma-separated unit grid codes")],
    assignee: Annotated[str | None, typer.Option(help="username of the supervisor")] = None,
    line_of_work: Annotated[
        str | None, typer.Option(help="professional grids: line of work")
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Create or replace a responsibility grid (责任网格) or professional grid (专业网格)."""
    from gridgov.regions.grid_sets import save_grid_set

    with _work(data_dir) as (session, _):
        gs = save_grid_set(
            session,
            code=code,
            kind=kind,
            name=name,
            grid_codes=[c.strip() for c in grids.split(",") if c.strip()],
            assignee=assignee,
            line_of_work=line_of_work,
        )
        console.print(f"saved grid set {gs.code} ({gs.kind.value})")


@app.command()
def geocode(
    lon: Annotated[float, typer.Argument(help="longitude")],
    lat: Annotated[float, typer.Argument(help="latitude")],
    crs: Annotated[str, typer.Option(help="wgs84 | gcj02 | bd09")] = "wgs84",
    data_dir: DataDir = None,
) -> None:
    """Point → unit grid → community → street → district."""
    import orjson

    from gridgov.regions.geocode import geocode as do_geocode

    with _work(data_dir) as (session, _):
        result = do_geocode(session, lon, lat, crs)  # type: ignore[arg-type]
    sys.stdout.write(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode() + "\n")


@app.command()
def address(
    query: Annotated[str, typer.Argument(help="address, partial address or pinyin initials")],
    limit: int = 5,
    data_dir: DataDir = None,
) -> None:
    """Address → point through the gazetteer."""
    from gridgov.gazetteer.service import search

    with _work(data_dir) as (session, _):
        matches = search(session, query, limit)
    table = Table("score", "how", "address", "lon", "lat")
    for m in matches:
        table.add_row(f"{m.score:.0f}", m.how, m.address, f"{m.lon:.6f}", f"{m.lat:.6f}")
    console.print(table)


@bench_app.command(
    "geocode", context_settings={"allow_extra_args": True, "ignore_unknown_options": True}
)
def bench_geocode(ctx: typer.Context) -> None:
    """Geocoding benchmark (options as bench/geocode.py: --json, --grids, --points)."""
    from gridgov.benchmarks.geocode import main

    raise typer.Exit(main(list(ctx.args)))


@bench_app.command(
    "intake", context_settings={"allow_extra_args": True, "ignore_unknown_options": True}
)
def bench_intake(ctx: typer.Context) -> None:
    """Case intake benchmark (options as bench/intake.py: --json, --backends, --clients)."""
    from gridgov.benchmarks.intake import main

    raise typer.Exit(main(list(ctx.args)))


if __name__ == "__main__":
    app()
