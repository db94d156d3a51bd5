"""Evidence for what no read-only probe proves: generated runbooks (more to come: drills, attestations)."""
