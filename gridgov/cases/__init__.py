"""Cases (案件) and the closed loop: the workflow table lives in ``gridgov.cases.workflow``."""
