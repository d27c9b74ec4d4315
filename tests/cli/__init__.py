"""Tests of zoo.cli."""
