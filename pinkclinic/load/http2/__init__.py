"""HTTP/2 load (h2c or TLS with ALPN): connections carrying many streams, each stream slot a
lane of :mod:`pinkclinic.load.lanes`."""
