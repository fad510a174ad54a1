from tests.integration.conftest import emulator, emulator_server  # noqa: F401 - shared fixtures
