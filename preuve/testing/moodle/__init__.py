"""A Moodle stand-in: a local aiohttp server speaking Moodle's REST protocol.

It serves a deterministic generated site (``SiteSpec``), shaped like answers
recorded from a real Moodle 4.5.6, and injects faults (``Faults``): latency,
5xx storms, 429 with Retry-After, timeouts, a revoked token, missing functions
or capabilities, inaccessible courses, bad values.
"""

from preuve.testing.moodle.faults import Faults
from preuve.testing.moodle.generator import GeneratedSite, SiteSpec
from preuve.testing.moodle.server import MoodleStandIn, start_stand_in

__all__ = ["Faults", "GeneratedSite", "MoodleStandIn", "SiteSpec", "start_stand_in"]
