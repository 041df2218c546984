"""HTTP/1.1 load: the client connection (httptools), the engine that paces and times it, and
the runners (in this process, or in ``-w`` worker processes)."""
