"""Departments (专业部门 / 处置单位), their territory and the responsibility matrix."""
