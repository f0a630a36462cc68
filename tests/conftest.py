"""Root of the test suite: the shared fixtures are plugins, so no test imports a conftest."""

pytest_plugins = [
    "tests.fixtures.webapp",
    "tests.fixtures.booking",
    "tests.fixtures.sync",
    "tests.fixtures.msgraph",
    "tests.loopback",
]
