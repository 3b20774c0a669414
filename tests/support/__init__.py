"""Helpers the tests and benchmarks share: firmware bed, service process, throwaway PostgreSQL schemas, browser."""
