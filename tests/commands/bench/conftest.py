"""``pinkclinic bench`` runs against the purpose-built servers of tests/load/servers.py."""

from tests.load.conftest import serve  # noqa: F401 - pytest fixture
