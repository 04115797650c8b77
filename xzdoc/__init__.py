"""xzdoc: government IT project documents as code."""

__version__ = "0.1.0"
