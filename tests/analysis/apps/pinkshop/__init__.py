"""pinkshop: a WSGI app shipped as a package, installed into site-packages by a test
(as ``pip install .`` deploys an app, or as httpbin is installed)."""
