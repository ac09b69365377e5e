"""Pure ASGI middleware (not BaseHTTPMiddleware, which costs an extra task per request)."""
