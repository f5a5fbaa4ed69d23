"""Fixtures shared by the tenancy tests: clients signed in as a member of a fresh org."""

import pytest
from rest_framework.test import APIClient


@pytest.fixture
def api_client():
    return APIClient()
