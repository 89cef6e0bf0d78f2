"""Regions and versioned grids against real SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from shapely.geometry import Polygon, box
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gridgov.errors import ImportRejected
from gridgov.regions import service
from gridgov.regions.models import GridRevision, Region, UnitGrid
from gridgov.regions.schemas import GridIn, RegionIn
from tests.factories.regions import COMMUNITIES, X0, Y0, D, grid_boxes, grid_items, make_district


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_hierarchy_and_areas(session: Session) -> None:
    make_district(session)
    comm = service.get_region(session, COMMUNITIES[0])
    by_id = service.regions_by_id(session)
    levels = service.ancestors(comm, by_id)
    assert [levels[k].code for k in sorted(levels, key=str)] == [
        "110000",
        COMMUNITIES[0],
        "110188",
        "110188001",
    ]
    # 0.002° × 0.002° at 39.9°N ≈ 170.7 m × 222.0 m
    assert comm.area_m2 == pytest.approx(37_900, rel=0.02)
    assert len(service.list_grids(session, region_code="110188001")) == 8
    assert len(service.list_grids(session, region_code="110000")) == 16


def test_grids_are_validated_and_coded_in_reading_order(session: Session) -> None:
    make_district(session, with_grids=False)
    # no codes given: numbered north→south, west→east inside each community
    uncoded = [GridIn(geom=g) for i in range(4) for g in reversed(grid_boxes(i))]
    change = service.save_grids(session, uncoded, digits=2, source="test")
    assert len(change.added) == 16
    first = service.get_grid(session, COMMUNITIES[0] + "01")
    assert first.geom.equals(grid_boxes(0)[0])  # the north-west grid is 01
    assert service.get_grid(session, COMMUNITIES[0] + "04").geom.equals(grid_boxes(0)[3])


def test_overlap_gap_and_outside_are_reported_with_location(session: Session) -> None:
    make_district(session, with_grids=False)
    grids = grid_items()
    g0 = grids[0].geom
    grids[0] = GridIn(
        geom=box(*g0.bounds[:2], g0.bounds[2] + D / 2, g0.bounds[3]), code=grids[0].code, feature=1
    )  # overlaps its east neighbour
    grids[2] = GridIn(
        geom=box(X0, Y0 + D / 4, X0 + D, Y0 + D), code=grids[2].code, feature=3
    )  # gap
    before = _count(session, UnitGrid)
    with pytest.raises(ImportRejected) as exc:
        service.save_grids(session, grids, digits=2, source="test")
    kinds = {p["kind"] for p in exc.value.problems}
    assert {"overlap", "gap"} <= kinds
    overlap = next(p for p in exc.value.problems if p["kind"] == "overlap")
    # D/2 × D at 39.9°N: 42.7 m × 111.0 m
    assert overlap["area_m2"] == pytest.approx(4_740, rel=0.02)
    lon, lat = overlap["location"]
    assert X0 + D <= lon <= X0 + 1.5 * D and Y0 + D <= lat <= Y0 + 2 * D
    assert _count(session, UnitGrid) == before  # nothing written


def test_bad_codes_and_geometries_refused_together(session: Session) -> None:
    make_district(session, with_grids=False)
    bowtie = Polygon([(X0, Y0), (X0 + D, Y0 + D), (X0 + D, Y0), (X0, Y0 + D)])
    grids = [
        GridIn(geom=bowtie, code=COMMUNITIES[0] + "01", feature=1),
        GridIn(geom=Polygon(), code=COMMUNITIES[0] + "02", feature=2),
        GridIn(geom=grid_boxes(0)[2], code="1101880010010X", feature=3),
    ]
    with pytest.raises(ImportRejected) as exc:
        service.save_grids(session, grids, digits=2, source="test")
    by_feature = {p.get("feature"): p["kind"] for p in exc.value.problems}
    assert by_feature[1] == "invalid_geometry"
    assert by_feature[2] == "empty"
    assert _count(session, UnitGrid) == 0


def test_malformed_code_named_even_when_geometry_is_fine(session: Session) -> None:
    make_district(session, with_grids=False)
    grids = grid_items()
    grids[2] = GridIn(geom=grids[2].geom, code="11018800100103x", feature=3)
    with pytest.raises(ImportRejected) as exc:
        service.save_grids(session, grids, digits=2, source="test")
    assert exc.value.problems[0]["feature"] == 3
    assert exc.value.problems[0]["kind"] == "bad_code"


def test_duplicate_and_unknown_community_codes(session: Session) -> None:
    make_district(session, with_grids=False)
    grids = grid_items()
    grids[1] = GridIn(geom=grids[1].geom, code=grids[0].code, feature=2)
    grids.append(GridIn(geom=box(X0, Y0, X0 + D, Y0 + D), code="11018800900101", feature=17))
    with pytest.raises(ImportRejected) as exc:
        service.save_grids(session, grids, digits=2, source="test")
    kinds = {(p["kind"], p.get("feature")) for p in exc.value.problems}
    assert ("duplicate_code", 2) in kinds
    assert ("unknown_parent", 17) in kinds


def test_redraw_creates_a_version_and_keeps_the_old_one(session: Session) -> None:
    make_district(session)
    old = service.get_grid(session, COMMUNITIES[0] + "01")
    old_id, t_before = old.id, old.valid_from + timedelta(microseconds=1)
    # move the boundary between grids 01 and 02 of community 0 eastwards by D/4
    b1, b2 = grid_boxes(0)[:2]
    edit = [
        GridIn(
            geom=box(b1.bounds[0], b1.bounds[1], b1.bounds[2] + D / 4, b1.bounds[3]),
            code=COMMUNITIES[0] + "01",
        ),
        GridIn(
            geom=box(b2.bounds[0] + D / 4, b2.bounds[1], b2.bounds[2], b2.bounds[3]),
            code=COMMUNITIES[0] + "02",
        ),
    ]
    change = service.save_grids(session, edit, digits=2, source="edit", replace=False)
    assert sorted(change.retired) == sorted(g.code for g in edit)
    versions = service.grid_versions(session, COMMUNITIES[0] + "01")
    assert len(versions) == 2 and versions[0].id == old_id and versions[0].valid_to is not None
    current = service.get_grid(session, COMMUNITIES[0] + "01")
    assert current.area_m2 == pytest.approx(old.area_m2 * 1.25, rel=1e-3)
    # the layout at the earlier time is the old one
    at_old = service.get_grid(session, COMMUNITIES[0] + "01", at=t_before)
    assert at_old.id == old_id
    assert len(service.list_grids(session, region_code=COMMUNITIES[0])) == 4
    assert _count(session, GridRevision) == 2


def test_an_edit_that_breaks_the_tiling_is_refused(session: Session) -> None:
    make_district(session)
    b1 = grid_boxes(0)[0]
    edit = [
        GridIn(
            geom=box(b1.bounds[0], b1.bounds[1], b1.bounds[2] + D / 4, b1.bounds[3]),
            code=COMMUNITIES[0] + "01",
        )
    ]
    with pytest.raises(ImportRejected, match="overlap"):
        service.save_grids(session, edit, digits=2, source="edit", replace=False)
    assert len(service.grid_versions(session, COMMUNITIES[0] + "01")) == 1


def test_unchanged_grids_keep_their_row(session: Session) -> None:
    make_district(session)
    change = service.save_grids(session, grid_items(), digits=2, source="reimport")
    assert len(change.unchanged) == 16 and not change.added and not change.retired


def test_region_outside_its_parent_and_unknown_parent(session: Session) -> None:
    make_district(session, with_grids=False)
    with pytest.raises(ImportRejected) as exc:
        service.import_regions(
            session,
            [
                RegionIn("110188001003", "越界社区", box(X0 - D, Y0, X0, Y0 + D), feature=1),
                RegionIn("110188009001", "孤儿社区", box(X0, Y0, X0 + D, Y0 + D), feature=2),
            ],
        )
    kinds = {(p["kind"], p.get("feature")) for p in exc.value.problems}
    assert ("unknown_parent", 2) in kinds
    assert _count(session, Region) == 8


def test_a_grid_inside_another_is_an_overlap(session: Session) -> None:
    make_district(session, with_grids=False)
    grids = grid_items()
    grids.append(
        GridIn(
            geom=box(X0 + D / 4, Y0 + 1.25 * D, X0 + D / 2, Y0 + 1.5 * D),
            feature=17,
            community_code=COMMUNITIES[0],
        )
    )
    with pytest.raises(ImportRejected) as exc:
        service.save_grids(session, grids, digits=2, source="test")
    assert [p["kind"] for p in exc.value.problems] == ["overlap"]


def test_validate_current_grids_finds_nothing_on_a_clean_layer(session: Session) -> None:
    make_district(session)
    assert service.validate_current_grids(session) == []
