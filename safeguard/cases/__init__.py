"""Respond: triage queues (one intake for every source), and later cases, referrals, notices
and evidence."""
