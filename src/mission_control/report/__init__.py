"""The readiness report: progress, proofs, evidence and drills, and completion over time."""
