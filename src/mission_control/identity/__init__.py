"""Users, roles, browser sessions and API tokens; password sign-in and its throttling; single sign-on."""
