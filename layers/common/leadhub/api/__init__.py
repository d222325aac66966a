"""The HTTP API: Powertools routers shared by the Lambda and the local server."""
