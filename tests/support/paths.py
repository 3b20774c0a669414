"""Where things are, from the repository's root, so a test reads the same wherever it lives."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"  # fixtures checked in beside the tests
SUPPORT = REPO / "tests" / "support"
ARTIFACTS = REPO / "test-artifacts"  # figures and screenshots a run leaves for a person to read
