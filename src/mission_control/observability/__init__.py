"""What an operator's monitoring reads: liveness, readiness, and readiness as Prometheus metrics."""
