"""HTTP/2 runs against the sample servers of samples/workflows (hypercorn)."""

from tests.workflows.conftest import serve  # noqa: F401 - pytest fixture
