"""Monitoring: metric samples and alerts in an embedded SQLite store.
"""
