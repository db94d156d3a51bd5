"""Background work ("Verify now", drills): one interface, `Runner`, and the in-process runner behind it.

Each kind of work (jobs/verification.py, jobs/drills.py) is written against `Runner` only, so another
runner (a distributed queue for many replicas) can take the same work.
"""
