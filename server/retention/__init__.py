"""Retention of personal data (issue 14, "nothing kept forever"): rules per kind of data counted
from the round's decision, legal holds, a dry-run plan and a crash-safe purge that keeps the
verdict and the legal record."""
