"""The folder put first on the target's PYTHONPATH (see docs/recording-format.md).

Nothing in this folder may import pinkclinic or any third-party module: it runs
inside the target, on whatever Python version the target uses.
"""
