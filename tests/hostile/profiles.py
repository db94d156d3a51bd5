"""Hypothesis settings for the hostile-input suite, sized for CI on two cores.

Pure parsers get 200 examples per property; properties that go through the app and a database get
25 and no deadline (a slow CI disk is not a failure). No example database: a failure prints its
seed and reproduces from it, and a run leaves no files behind.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

PARSER_EXAMPLES = 200
DATABASE_EXAMPLES = 25
API_EXAMPLES = 50  # per OpenAPI operation, positive and negative cases mixed

settings.register_profile("hostile-parsers", max_examples=PARSER_EXAMPLES, deadline=None, database=None)
settings.register_profile(
    "hostile-database",
    max_examples=DATABASE_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile("hostile-api", settings.get_profile("hostile-database"), max_examples=API_EXAMPLES)
PARSERS = settings.get_profile("hostile-parsers")
DATABASE = settings.get_profile("hostile-database")
API = settings.get_profile("hostile-api")
