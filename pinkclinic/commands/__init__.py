"""One module per command: plain functions the click layer (pinkclinic.cli) calls."""
