"""Start the review page: check the inputs in one line each, then serve until Ctrl-C."""

from __future__ import annotations

import getpass
import socket
from pathlib import Path

from prodspec.dataset.errors import UserError
from prodspec.dataset.rows import check_output


def serve(input_csv: Path, images: Path, predictions: Path, labels: Path, host: str = "127.0.0.1", port: int = 8765,
          reviewer: str | None = None, model_dir: Path | None = None, cache_dir: Path | None = None) -> None:
    try:
        import uvicorn

        from prodspec.review.app import Review, make_app
    except ImportError as error:
        raise UserError(f"the review page needs its extra: pip install 'prodspec[review]' ({error.name} missing)") \
            from None
    from prodspec.review.corrections import Corrections
    from prodspec.review.queue import Overlays, ReviewQueue
    from prodspec.serving.predict import load_ranker

    if not Path(images).is_dir():
        raise UserError(f"{images}: no such folder of photos")
    check_output(labels, input_csv=input_csv)
    if Path(labels).resolve() == Path(predictions).resolve():
        raise UserError(f"{labels}: that is the predictions file; name another file for the corrections")
    with socket.socket() as probe:  # a port in use: one line, before the model is loaded
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds: a closed server's port is free
        try:
            probe.bind((host, port))
        except OSError as error:
            raise UserError(f"cannot serve on {host}:{port} ({error.strerror}); choose another --port") from None
    queue = ReviewQueue(input_csv, predictions, images)
    corrections = Corrections(labels)
    overlays = Overlays(queue, load_ranker(model_dir), Path(labels).parent / f".{Path(labels).name}.drawings",
                        cache_dir)
    app = make_app(Review(queue, overlays, corrections, reviewer or getpass.getuser()))
    print(f"review {len(queue.rows)} answers at http://{host}:{port}/ ; corrections go to {labels} (Ctrl-C stops)",
          flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")
