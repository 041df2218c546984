"""Runs against servers without a recording: suites (each endpoint in turn), scenarios
(phased arrivals) and comparisons (A against B), each server started or reached, loaded
with :mod:`pinkclinic.load` and measured with psutil (:mod:`pinkclinic.workflows.server`)."""
