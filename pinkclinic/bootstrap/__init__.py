"""The folder put first on the target's PYTHONPATH (see docs/recording-format.md).

Nothing in this folder may import pinkclinic or any third-party module: it runs
inside the target, on whatever Python version the target uses. The target has the
folder on its path, not its parent, so this ``__init__`` never runs there. The
environment that switches the probe on is :func:`pinkclinic.target.env.probe_env`;
what pinkclinic knows of the probe from outside (its files, its own code and threads)
is :mod:`pinkclinic.probe`.
"""
