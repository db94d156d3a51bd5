"""Telling people where they already look (Slack, a signed webhook, email) when readiness changes."""
