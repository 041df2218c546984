"""What every protocol of the load generator shares: the spec (what to send), server URLs,
per-second statistics and their exact merge, the result and its JSON, the event loop, and
the files a load reads (``--requests``, YAML with line numbers)."""
