"""The embedded local stack: moto's server as AWS, the vendor simulators, the HTTP API."""
