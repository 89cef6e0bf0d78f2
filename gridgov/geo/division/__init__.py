"""Cut a community into unit grids (单元网格划分) and number them in reading order.

The cut follows CJ/T 213's rules of thumb: grids follow roads, rivers and walls first, are about
``target_area_m2`` each, are balanced by the objects they hold (buildings, components), never cut a
building, and tile the community with no gaps and no overlaps.

Pipeline, all in the community's local projected CRS (metres):

1. blocks: polygonize the community boundary noded with the dividing lines;
2. split blocks that are too big with straight cuts across their long axis, at the offset that
   balances area and object count; shift the cut into a gap between buildings when that costs
   little balance, else move each building the cut crosses wholly to the side holding most of it;
3. merge pieces that are too small, tiny slivers and thin strips (e.g. between two carriageways)
   into the neighbour sharing the longest boundary;
4. re-node all pieces on a fixed precision grid so shared edges match exactly, then unproject
   and sort in numbering order.

Everything here is pure: no database, deterministic for a given input.

Modules: ``pipeline`` (:func:`divide`), ``context`` (inputs and tuning constants),
``blocks`` (step 1), ``split`` (step 2), ``merge`` (step 3), ``clean`` (step 4), ``order``
(:func:`reading_order`), ``check`` (:func:`check_division`) and ``parts`` (geometry helpers).
"""

from gridgov.geo.division.check import check_division
from gridgov.geo.division.order import reading_order
from gridgov.geo.division.pipeline import divide

__all__ = ["check_division", "divide", "reading_order"]
