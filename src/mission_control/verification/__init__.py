"""Read-only AWS verification: collectors fetch once, probes judge the collected facts."""
