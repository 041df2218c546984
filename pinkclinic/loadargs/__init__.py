"""Load options on the command line: declared once (click) for ``pinkclinic bench``, and
parsed from doctor's, flame's, heap's and compare's ``--load`` words with the same
declarations. The load library (:mod:`pinkclinic.load`) itself takes a ``LoadSpec``.

    spec = parse_bench_args(["-c", "50", "-d", "10", "/items"], base_url="http://127.0.0.1:8000")
"""

from pinkclinic.loadargs.parse import parse_bench_args, parse_compare_load, spec_from_options

__all__ = ["parse_bench_args", "parse_compare_load", "spec_from_options"]
