"""Evidence for what no read-only probe proves: generated documents and runbooks, links, files,
attestations, drills, and the runs of AWS's own resilience tools (FIS, ARC Region switch) as drills."""
