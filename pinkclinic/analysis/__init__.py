"""Analyzers: one module per signal (loop, gc, memory, io_wait, ...), combined by diagnose."""
