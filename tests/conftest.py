from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[1]


@pytest.fixture
def project_dir() -> Path:
    return PROJECT_DIR
