"""``pinkclinic diff BASE NEW``: before/after comparison of two recordings.

    from pinkclinic.diff import diff_recordings
    d = diff_recordings("before.pinkclinic-flame", "after.pinkclinic-flame")
    d.data        # the JSON (``--json``): functions with CPU per request and significance
    d.tree        # the differential flame graph's nodes (render/diff.py draws them)

Modules: ``stats`` (the significance rule), ``sides`` (a recording's CPU samples and
requests), ``cpu`` (the function table), ``tree`` (the differential tree), ``doctor``
and ``heap`` (their own comparisons), ``limits`` (``--fail-if`` over a diff), ``build``.
"""

from pinkclinic.diff.build import SCHEMA_VERSION, Diff, diff_recordings

__all__ = ["SCHEMA_VERSION", "Diff", "diff_recordings"]
