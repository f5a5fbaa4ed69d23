"""Alerts (issue 13): an org's thresholds, the periodic evaluation that opens and closes one
event per crossing and emails owners and finance, the dashboard banner, the page and the API."""
