"""Fixtures for the integration tests."""

from tests.integration.uploader import uploader

__all__ = ["uploader"]
