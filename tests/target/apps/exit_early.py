import sys

print("starting up", flush=True)
print("boom: config file settings.toml not found", file=sys.stderr, flush=True)
sys.exit(3)
