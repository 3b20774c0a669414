"""MQTT telemetry: each rig's status, and its runs' state, progress, samples and events, published
to a broker beside the store (`lumenrig serve --mqtt`); never in the way of ingest."""
