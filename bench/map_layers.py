"""Map layers benchmark: grids, components counted per area and as points, against every
component as one GeoJSON, with ~160,000 components. See gridgov.benchmarks.map_layers."""

from gridgov.benchmarks.map_layers import main

if __name__ == "__main__":
    raise SystemExit(main())
