"""Dashboard (领导驾驶舱 / 指挥大屏): counts, grid density, map cases and the change stream."""
