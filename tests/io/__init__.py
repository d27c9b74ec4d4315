"""Tests of zoo.io."""
