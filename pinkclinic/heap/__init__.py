"""Heap analysis for ``pinkclinic heap``: memray captures -> peak, leak suspects, series.

``analyse(captures, window=..., requests=...)`` works on any memray capture files;
``analyse_recording(path)`` on a ``*.pinkclinic-heap`` recording folder (it writes
``heap.json`` and ``diagnosis.json``). ``as_weighted_stacks(result["peak"])`` gives the
peak as ``(frames, bytes, count)`` tuples for a flame graph.
"""

from pinkclinic.heap.analyse import SCHEMA_VERSION, analyse
from pinkclinic.heap.peak import as_weighted_stacks
from pinkclinic.heap.recording import analyse_recording, diagnosis_document

__all__ = ["SCHEMA_VERSION", "analyse", "analyse_recording", "as_weighted_stacks",
           "diagnosis_document"]
