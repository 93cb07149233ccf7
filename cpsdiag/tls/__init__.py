"""TLS client authentication with the card ("Test SSL"): the probe and a local test server."""
