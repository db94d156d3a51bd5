"""Mission Control: take an AWS platform from one region to two, and prove it got there."""

__version__ = "0.1.0"
