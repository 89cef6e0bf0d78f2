"""The map layers that can be imported from and exported to GIS files, by name.

The CLI and the API look importers and exporters up here::

    with rich_progress("grids") as progress:
        summary = IMPORTERS["grids"](session, path, settings=settings, progress=progress)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from gridgov.geo.files import ProgressFn
from gridgov.geo.importing import ImportSummary
from gridgov.regions.io import (
    export_grids_file,
    export_regions_file,
    import_grids_file,
    import_regions_file,
)
from gridgov.registry.io import export_buildings_file, import_buildings_file
from gridgov.roads.io import export_roads_file, import_roads_file

Importer = Callable[..., ImportSummary]
Exporter = Callable[..., int]

IMPORTERS: dict[str, Importer] = {
    "regions": import_regions_file,
    "grids": import_grids_file,
    "roads": import_roads_file,
    "buildings": import_buildings_file,
}
EXPORTERS: dict[str, Exporter] = {
    "regions": export_regions_file,
    "grids": export_grids_file,
    "roads": export_roads_file,
    "buildings": export_buildings_file,
}


@contextmanager
def rich_progress(
    description: str = "Importing", *, console: Console | None = None, **options: Any
) -> Iterator[ProgressFn]:
    """A ``progress(done, total)`` callable that drives a rich progress bar while open."""
    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        **options,
    )
    with bar:
        task = bar.add_task(description, total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield progress


__all__ = ["EXPORTERS", "IMPORTERS", "ImportSummary", "rich_progress"]
