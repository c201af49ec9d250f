"""Local tooling for ciflow (never deployed): sample events, local invocation, and the ``ciflow`` command."""
