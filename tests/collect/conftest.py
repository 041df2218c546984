"""The collect tests reuse the target tests' launcher fixture."""

from tests.target.conftest import start  # noqa: F401 - pytest fixture
