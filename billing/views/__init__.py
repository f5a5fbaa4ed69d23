"""Billing's dashboard views (thin: parse, call a service or selector, render)."""
