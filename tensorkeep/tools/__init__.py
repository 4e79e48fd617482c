"""Command-line tools: the `tensorkeep` CLI and the TF1 script runner."""
