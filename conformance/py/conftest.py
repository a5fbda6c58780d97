"""pytest fixtures shared by the Python-SDK conformance suites (see helpers.py)."""

import secrets

import pytest

import helpers


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
