"""pytest fixtures shared by the Python-SDK conformance suites (see helpers.py)."""

import importlib.metadata
import secrets

import pytest

import helpers


def pytest_collection_modifyitems(config, items):
    """Deselect tests marked sdk3 (APIs only mistralai 3.x has) when a 2.x SDK is installed,
    and say how many."""
    major = int(importlib.metadata.version("mistralai").split(".")[0])
    if major >= 3:
        return
    kept, dropped = [], []
    for item in items:
        (dropped if item.get_closest_marker("sdk3") else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
        print(f"\nmistralai {major}.x: deselected {len(dropped)} test(s) marked sdk3 (they need mistralai 3.x)")


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
