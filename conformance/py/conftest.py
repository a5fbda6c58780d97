"""pytest fixtures shared by the Python-SDK conformance suites (see helpers.py)."""

import importlib.metadata
import secrets

import pytest

import helpers

SDK_VERSION = importlib.metadata.version("mistralai")
SDK_MAJOR = int(SDK_VERSION.split(".")[0])


def pytest_collection_modifyitems(config, items):
    """On the 2.x SDK line, deselect the tests marked sdk3 (they use 3.x-only APIs)."""
    if SDK_MAJOR >= 3:
        return
    kept, dropped = [], []
    for item in items:
        (dropped if item.get_closest_marker("sdk3") else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
    config._sdk3_deselected = len(dropped)


def pytest_report_header(config):
    return f"mistralai {SDK_VERSION}"


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    n = getattr(config, "_sdk3_deselected", 0)
    if n:
        terminalreporter.write_line(
            f"mistralai {SDK_VERSION}: deselected {n} test(s) marked sdk3 (they need the 3.x SDK line)"
        )


@pytest.fixture(scope="session")
def client():
    """SDK client for the main workspace."""
    return helpers.make_client(helpers.KEY)


@pytest.fixture(scope="session")
def other_client():
    """SDK client for a second workspace (cross-workspace isolation)."""
    return helpers.make_client(helpers.OTHER_KEY)


@pytest.fixture(scope="session")
def bad_client():
    """SDK client with a key the server never issued."""
    return helpers.make_client("tr-not-a-real-key-" + secrets.token_hex(8))
