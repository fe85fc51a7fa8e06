"""Protocol stand-ins (Moodle, LRS, webhook receiver) for tests, benchmarks and the demo.

They speak the real protocols over local HTTP servers; nothing here is used in
production code paths.
"""
