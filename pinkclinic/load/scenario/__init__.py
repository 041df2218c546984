"""Phased arrivals of virtual users (artillery's model): the scenario file, the run, its
per-phase statistics and the users' HTTP/1.1 client."""
