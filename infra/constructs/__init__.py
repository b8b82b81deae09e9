"""Constructs the sluice stack is assembled from, one idea per module."""
