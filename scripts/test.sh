#!/usr/bin/env bash
# Run the test suite: start the private PostgreSQL server, run pytest with any arguments given,
# stop the server even when pytest fails, and exit with pytest's exit code.
# `make test` calls this after installing what the tests need; arguments go straight to pytest.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${VENV:-.venv}/bin/python"
[ -x "$PY" ] || { echo "test.sh: $PY missing; run 'make test' (or 'make venv')" >&2; exit 2; }

bash scripts/postgres.sh hold $$
trap 'bash scripts/postgres.sh release $$ || true' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

SAFEGUARD_TEST_POSTGRES_URL="$(bash scripts/postgres.sh url)"
export SAFEGUARD_TEST_POSTGRES_URL
mkdir -p test-artifacts

pytest_cmd=("$PY" -m pytest)
if [ -n "${CI:-}" ]; then
    # CI: show the slowest tests, and stop before the job's 90-minute limit with pytest's own
    # summary rather than being killed silently (SIGINT makes pytest report what it has).
    pytest_cmd=(timeout --signal=INT --kill-after=60 "${SAFEGUARD_TEST_TIMEOUT:-75m}"
                "${pytest_cmd[@]}" --durations=15 --junitxml=test-artifacts/junit.xml)
fi

status=0
"${pytest_cmd[@]}" "$@" || status=$?

case "$status" in
    0) ;;
    5) echo "test.sh: pytest collected no tests; that is a failure" >&2 ;;
    124) echo "test.sh: pytest ran out of time (SAFEGUARD_TEST_TIMEOUT)" >&2 ;;
    *) echo "test.sh: pytest exited with status $status" >&2 ;;
esac
exit "$status"
