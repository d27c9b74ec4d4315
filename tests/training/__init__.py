"""Tests of zoo.training."""
