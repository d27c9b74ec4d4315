"""Tests of zoo.data."""
