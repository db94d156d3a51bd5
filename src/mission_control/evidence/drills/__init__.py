"""Drills (game days): timed steps and measurements recorded as evidence; one module per drill."""
