"""Road lines: map layer, grid-division boundaries and (later) the routing network."""
