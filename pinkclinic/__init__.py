"""pinkclinic: profiling and diagnosis toolkit for Python servers."""

__version__ = "0.1.0"
