"""Tests of zoo.evaluation."""
