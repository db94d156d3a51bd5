"""One collector module per AWS service: each fetches what probes need, once per run."""
