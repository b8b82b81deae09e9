"""Fixtures for the integration tests."""

from tests.integration.cli_runner import sluice
from tests.integration.uploader import uploader

__all__ = ["sluice", "uploader"]
