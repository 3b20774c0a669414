"""The run kinds' names alone: what the CLI's choices and the store's checks need, without
loading what each kind brings with it (its analysis: numpy, scipy), so a CLI command starts
fast. host.runs.kinds refuses to load if its KINDS differ from these."""

KIND_NAMES = ("lifetime", "photostability", "jvl")
