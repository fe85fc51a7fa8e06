"""Preuve: Qualiopi evidence connector for learning platforms."""

__version__ = "0.1.0"
