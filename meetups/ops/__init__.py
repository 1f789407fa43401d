"""Running the app: logging, request ids, health and readiness, the worker's heartbeat."""
