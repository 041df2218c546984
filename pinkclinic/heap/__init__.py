"""Heap analysis for ``pinkclinic heap``: memray captures -> peak, leak suspects, series.

``analyse(captures, window=..., requests=...)`` works on any memray capture files;
``analyse_recording(path)`` on a ``*.pinkclinic-heap`` recording folder.
"""

from pinkclinic.heap.analyse import SCHEMA_VERSION, analyse
from pinkclinic.heap.peak import as_weighted_stacks

__all__ = ["SCHEMA_VERSION", "analyse", "as_weighted_stacks"]
