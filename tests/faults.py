"""Faults injected into each Ray worker process as it starts (Ray's `worker_process_setup_hook`), so that a real
cluster's actors meet them while reading real photos (tests/test_ray.py)."""

import sqlite3

FAULTY_PHOTO = "boom.jpg"


def memory_error_on_one_photo() -> None:
    """Decoding the photo named FAULTY_PHOTO raises MemoryError, as an allocation the machine cannot hold does."""
    from prodspec.candidates import run_ocr

    decode = run_ocr.decode_photo

    def decode_or_run_out(data, where, max_side=None):
        if str(where).endswith(FAULTY_PHOTO):
            raise MemoryError
        return decode(data, where, max_side)

    run_ocr.decode_photo = decode_or_run_out


def read_only_cache() -> None:
    """Every write to the OCR cache fails as SQLite fails on a read-only database file."""
    from prodspec.candidates.cache import OcrCache

    def refuse(*args, **kwargs):
        raise sqlite3.OperationalError("attempt to write a readonly database")

    OcrCache.put = refuse
    OcrCache.put_drawing = refuse
