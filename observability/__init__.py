"""Observability: every /v1 inference request's record, its analytics, the request log and alerts.

The request record (`models.RequestRecord`) is written by the gateway in batches through
`recording.store_request_records`; it sits beside billing's usage record, which stays the money
record. ARCHITECTURE.md, "The apps", says what else lives here.
"""
