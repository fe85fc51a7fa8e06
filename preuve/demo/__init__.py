"""The end-to-end demo on bundled example data."""
