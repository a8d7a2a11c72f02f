"""What the dispatcher does after a failed run: wait (not counted), retry (counted) or fail for good.

Attempts are counted in the job record, not by JetStream: JetStream counts every delivery, so a
job NAKed while a service was down for 30 s used up its attempts without ever running. Here a
run counts when it started and the service took the call; a call the service never took (it was
down, restarting or draining: ``backend_unavailable`` before any stream event) only waits, with
backoff, and the job stays ``queued`` with a stage saying what it waits for. The per-job deadline
(``job_deadline_seconds`` from creation) bounds the waiting, and the attempt cap bounds runs that
crash the dispatcher itself (each delivery counts its run before calling the service).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from cad3d_kit.conversion import ConversionError, ErrorKind

# The service never took the call: a transport-level UNAVAILABLE (connection refused, GOAWAY,
# draining) with no stream event received.
NOT_ACCEPTED_CODES = frozenset({"backend_unavailable"})
# Failures a later run can get past: the service or its store had trouble, or its worker died.
RETRYABLE_CODES = frozenset({"backend_error", "storage_error", "conversion_crashed"})


class Verdict(StrEnum):
    WAIT = "wait"  # retry later; the run does not count
    RETRY = "retry"  # retry later; the run counted
    FAIL = "fail"


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    base_seconds: float = 2.0
    max_delay_seconds: float = 30.0
    deadline_seconds: float = 3600.0

    def delay(self, tries: int) -> float:
        """Backoff before the next try, after ``tries`` failed ones (1, 2, ...)."""
        return min(self.base_seconds * 2.0 ** max(tries - 1, 0), self.max_delay_seconds)

    def deadline(self, created_at: datetime) -> datetime:
        return created_at + timedelta(seconds=self.deadline_seconds)

    def verdict(self, error: ConversionError, accepted: bool, attempts: int) -> Verdict:
        """``accepted``: the service sent at least one stream event; ``attempts``: counted runs so far."""
        if error.code in NOT_ACCEPTED_CODES and not accepted:
            return Verdict.WAIT
        retryable = error.kind == ErrorKind.UNAVAILABLE or error.code in RETRYABLE_CODES
        if retryable and attempts < self.max_attempts:
            return Verdict.RETRY
        return Verdict.FAIL


def deadline_error(policy: RetryPolicy, last: ConversionError | None = None) -> ConversionError:
    because = f"; the last try failed with {last.code}: {last.message}" if last else ""
    return ConversionError(
        "job_deadline_exceeded",
        f"the job did not finish within {policy.deadline_seconds:g} s of its creation{because}",
        ErrorKind.DEADLINE,
    )


def attempts_error(attempts: int) -> ConversionError:
    return ConversionError(
        "too_many_attempts",
        f"the job was started {attempts} times and no run finished (the dispatcher or service stopped each time)",
        ErrorKind.UNAVAILABLE,
    )
