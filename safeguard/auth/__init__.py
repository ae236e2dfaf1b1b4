"""Users, roles, console sessions and API tokens."""
