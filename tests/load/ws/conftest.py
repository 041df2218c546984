"""WebSocket runs against the sample servers of samples/workflows."""

from tests.workflows.conftest import serve  # noqa: F401 - pytest fixture
