"""The dashboard: a static page that reads everything from /api."""
