import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "dataset" / "sample"


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Every test gets its own OCR cache folder; the shipped Parquet snapshots are still read."""
    monkeypatch.setenv("PRODSPEC_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.fixture
def test_csv(tmp_path):
    return write(
        tmp_path / "test.csv",
        "index,image_link,group_id,entity_name\n"
        "1,https://m.media-amazon.com/images/I/a.jpg,100,item_weight\n"
        "2,https://m.media-amazon.com/images/I/b.jpg,100,voltage\n"
        "3,https://m.media-amazon.com/images/I/b.jpg,100,height\n",
    )


os.environ.setdefault("OMP_NUM_THREADS", "2")
