"""The classification system (部件事件分类) as data: classes, conditions and time limits."""
