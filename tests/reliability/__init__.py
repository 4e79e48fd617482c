"""Helpers of the reliability suites (tests/test_reliability_*.py): budgets and reports, the
model the crash and concurrency suites save, child processes, and a sandbox that runs one
case at a time with a timeout. See docs/RELIABILITY.md."""
