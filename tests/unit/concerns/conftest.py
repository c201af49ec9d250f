"""Plain asserts in the shared helpers report their operands, as in the tests themselves."""

import pytest

pytest.register_assert_rewrite("tests.unit.concerns.helpers")
