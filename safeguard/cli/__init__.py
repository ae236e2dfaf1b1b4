"""The `safeguard` command line: one Typer sub-app per domain over the same services as HTTP."""
