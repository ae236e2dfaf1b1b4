from tests.banks.support import db  # noqa: F401  - our tables on top of the shared fixture
