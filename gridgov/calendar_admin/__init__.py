"""Working-calendar administration (工作日历管理): stored holiday notices and local overrides,
the deployment's :class:`~gridgov.workcalendar.WorkingCalendar` built from them, and its API.

The pure calendar arithmetic lives in :mod:`gridgov.workcalendar`; this package is the database
and HTTP side of it (DESIGN §3.4).
"""
