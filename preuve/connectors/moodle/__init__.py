"""Moodle connector: pulls Qualiopi evidence over Moodle's REST web services.

See docs/moodle.md for the site setup (functions, capabilities), the options
and the records produced.
"""

from preuve.connectors.moodle.connector import MoodleConnector

__all__ = ["MoodleConnector"]
