"""The lumenrig command-line tool and the HTTP client it drives the service with."""
