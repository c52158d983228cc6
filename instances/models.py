"""Instances and their operation history: filled by the instance lifecycle issue."""
