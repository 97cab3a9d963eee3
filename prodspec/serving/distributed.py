"""`predict --ray`: the same answers, read across a Ray cluster.

The rows go to Ray Data in blocks of whole photos (BLOCK_PHOTOS at a time). Each block is answered by an actor
that loaded the model and built its OCR engine once (`BlockReader`): it reads the block's photos (through its
node's OCR cache), then runs `prodspec.serving.predict.rank_rows`, the very function the single-machine path runs, so
the two cannot drift. The driver writes each finished block as a shard beside the output (`prodspec.serving.shards`), so
a run killed midway and started again skips the finished blocks; at the end the shards are merged in input order
and written as the single-machine path writes its answers, byte for byte.

A photo that is missing or does not decode is an unreadable photo, answered as the single-machine path answers it.
Anything else fails the run, as it fails the single-machine path: an error while a photo is read (a cache that
cannot be written, memory run out, a bug) ends the run with one line naming the photo, and an actor that dies is
restarted and its block retried (Ray), then its photos one at a time, and a photo whose actor dies even alone ends
the run naming it. The finished blocks are kept either way, so the run started again resumes.
"""

from __future__ import annotations

import logging
import os
import time
import warnings
from collections import Counter
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
from tqdm import tqdm

from prodspec.dataset.errors import UserError
from prodspec.dataset.photos import PhotoFolder
from prodspec.dataset.rows import check_output, read_rows, write_answers
from prodspec.ranker.answers import NO_ANSWER
from prodspec.serving.predict import answer_frame, load_ranker, ocr_settings, rank_rows
from prodspec.serving.shards import ShardStore, shard_frame

log = logging.getLogger(__name__)
BLOCK_PHOTOS = 16  # photos per block: the unit of work, of retry and of resumption
RETRIES = 2  # an actor's restarts, and a block's retries on a restarted actor, before the block is given up
NAMED_PROBLEMS = 10
ROW_COLUMNS = ["index", "image_link", "group_id", "entity_name", "image_name"]


class _Problems(logging.Handler):
    """Collects what the OCR stage says of unreadable photos while a block is read."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


class BlockReader:
    """A Ray Data actor: the model and the OCR engine once, then blocks of rows → their answers as shard lines.

    Its options are a class attribute (`reader_for`) rather than constructor arguments, which Ray would keep in the
    object store for the actor's restarts.
    """

    options: ClassVar[dict] = {}

    def __init__(self):
        from prodspec.candidates.cache import SHIPPED_DIR, OcrCache

        options = self.options
        self.model = load_ranker(Path(options["model_dir"]) if options["model_dir"] else None)
        self.settings = ocr_settings(self.model).with_changes(threads=options["threads"])
        self.folder = PhotoFolder(options["images"])
        self.cache = OcrCache(options["cache_dir"], shipped_dir=SHIPPED_DIR if options["shipped_cache"] else None,
                              any_thread=True)
        self.prior = options["prior"]

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        return pd.concat([self._block(rows) for _, rows in batch.groupby("block", sort=False)], ignore_index=True)

    def _block(self, rows: pd.DataFrame) -> pd.DataFrame:
        from prodspec.candidates.run_ocr import read_photos

        problems = _Problems()
        logging.getLogger("prodspec.candidates.run_ocr").addHandler(problems)
        readings, fresh = {}, 0
        try:
            for name in dict.fromkeys(n for n in rows["image_name"] if n):
                # one photo at a time, so that a failure names its photo; a missing or undecodable photo is no
                # failure (`read_photos` answers it as unreadable)
                try:
                    readings |= read_photos(self.folder, [name], self.settings, self.cache, workers=1, progress=False)
                except Exception as error:  # noqa: BLE001 - the driver ends the run with it, naming the photo
                    return _failed(rows, self.folder.where(name), error)
                fresh += not readings[name].cached and not readings[name].missing
        finally:
            logging.getLogger("prodspec.candidates.run_ocr").removeHandler(problems)
        _, ranked = rank_rows(rows[ROW_COLUMNS].reset_index(drop=True), readings, self.model, self.prior)
        lines = shard_frame(rows["row_pos"].to_numpy(), ranked.answers)
        lines["block"] = rows["block"].to_numpy()
        missing = sum(1 for r in readings.values() if r.missing)
        lines["report"] = [f"{fresh}|{missing}|" + "\n".join(problems.messages)] + [""] * (len(lines) - 1)
        lines["failure"] = ""
        return lines


def _failed(rows: pd.DataFrame, where: str, error: BaseException) -> pd.DataFrame:
    """A block's lines that carry, instead of answers, why reading one of its photos failed."""
    if isinstance(error, UserError):  # says what went wrong in its own words (a cache that cannot be written)
        why = str(error)
    elif isinstance(error, MemoryError):
        why = "out of memory"
    else:
        why = f"{type(error).__name__}: {error}"
    lines = shard_frame(rows["row_pos"].to_numpy(), [NO_ANSWER] * len(rows))
    return lines.assign(block=rows["block"].to_numpy(), report="", failure=f"reading {where} failed: {why}")


def reader_for(**options) -> type[BlockReader]:
    """A BlockReader class that carries these options (model_dir, images, cache_dir, prior, threads, shipped_cache)."""
    return type("BlockReader", (BlockReader,), {"options": options})


def photo_blocks(rows: pd.DataFrame, photos: int = BLOCK_PHOTOS) -> np.ndarray:
    """Each row's block: photos in order of first appearance, `photos` to a block; a photo's rows share its block,
    and a row with no photo to read joins the block of the rows around it."""
    order = {name: k // photos for k, name in enumerate(dict.fromkeys(n for n in rows["image_name"] if n))}
    blocks, last = [], 0
    for name in rows["image_name"]:
        last = order.get(name, last)
        blocks.append(last)
    return np.array(blocks, dtype=int)


def predict_on_ray(input_csv: Path, images: str | Path, output: Path, model_dir: Path | None = None,
                   cache_dir: Path | None = None, address: str | None = None, actors: int | None = None,
                   actor_cpus: int = 1, actor_gpus: float = 0, details: bool = False, prior: bool = True,
                   progress: bool = True, block_photos: int = BLOCK_PHOTOS, ray_options: dict | None = None,
                   shipped_cache: bool = True) -> dict:
    """`prodspec.serving.predict.predict` across a Ray cluster: at `address` (or `$RAY_ADDRESS`), else a local one started
    here. `actors` OCR actors (default: as many as the cluster's CPUs hold) of `actor_cpus` CPUs and `actor_gpus`
    GPUs each. Returns the same counts as `predict`, and what the cluster cost."""
    started = time.perf_counter()
    model = load_ranker(model_dir)
    check_output(output, input_csv=input_csv)
    rows = read_rows(input_csv).reset_index(drop=True)
    PhotoFolder(images)  # one line now if the photos cannot be found, not one per actor later
    blocks = photo_blocks(rows, block_photos)
    store = ShardStore(output, [input_csv, str(images), model.meta["file_sha1"], prior, block_photos,
                                ocr_settings(model).fingerprint()])
    todo = [int(b) for b in np.unique(blocks) if not store.done(np.flatnonzero(blocks == b))]
    resumed = int(np.unique(blocks).size - len(todo))
    cluster = {"ray_start_seconds": 0.0, "actors": 0, "resumed_blocks": resumed}
    if todo:
        reader = reader_for(model_dir=model_dir and str(model_dir), images=str(images),
                            cache_dir=cache_dir and str(cache_dir), prior=prior, threads=actor_cpus,
                            shipped_cache=shipped_cache)
        cluster |= _run_blocks(rows, blocks, todo, store, reader, address, actors, actor_cpus, actor_gpus, progress,
                               ray_options or {})
    answers = store.answers(len(rows))
    frame = answer_frame(rows, answers, details or str(output).endswith(".jsonl"))
    write_answers(frame, output)
    store.remove()
    sources = Counter(a.source for a in answers)
    images_count = int(rows.loc[rows["image_name"] != "", "image_name"].nunique())
    seconds = time.perf_counter() - started
    return {"rows": len(rows), "images": images_count, "answered": sum(1 for a in answers if a.text),
            "from_photo": sources["photo"], "from_prior": sources["prior"], "unanswered": sources["none"],
            "seconds": round(seconds, 2), "images_per_second": round(images_count / seconds, 2),
            "ocr_fresh": cluster.get("ocr_fresh", 0), "missing_images": cluster.get("missing", 0),
            "output": str(output), **{k: v for k, v in cluster.items() if k not in ("ocr_fresh", "missing")}}


def _run_blocks(rows, blocks, todo, store, reader, address, actors, actor_cpus, actor_gpus, progress,
                ray_options) -> dict:
    os.environ.setdefault("RAY_DATA_LOG_LEVEL", "ERROR")  # Ray Data's progress lines: the run shows its own bar
    try:
        import ray
        from ray.data import DataContext
    except ImportError:
        raise UserError("--ray needs Ray: pip install 'prodspec[ray]'") from None
    logging.getLogger("ray").setLevel(logging.WARNING)
    began = time.perf_counter()
    owned = not ray.is_initialized()
    if owned:
        ray.init(address=address or os.environ.get("RAY_ADDRESS"), include_dashboard=False,
                 logging_level=logging.WARNING, log_to_driver=False, **ray_options)
    start_seconds = time.perf_counter() - began
    context = DataContext.get_current()
    context.enable_progress_bars = False
    context.max_errored_blocks = -1  # a block given up is retried photo by photo below, not the end of the run
    cpus = int(ray.cluster_resources().get("CPU", 1))
    actors = actors or max(1, cpus // actor_cpus)
    bar = tqdm(total=sum(int((blocks == b).sum()) for b in todo), desc="rows (ray)", unit="row", disable=not progress)
    totals = Counter()
    try:
        for attempt in ("blocks", "photo by photo"):
            if attempt == "photo by photo":  # what a block's retries could not finish, one photo to a block
                todo = _split_by_photo(rows, blocks, [b for b in todo if not _finished(store, blocks, b)])
            if todo:
                _stream(ray, rows, blocks, todo, store, reader, actors, actor_cpus, actor_gpus, bar, totals)
        for block in todo:  # a photo whose actor died even alone ends the run
            if not _finished(store, blocks, block):
                raise _died_on(rows, blocks, block, store)
    finally:
        bar.close()
        if owned:
            ray.shutdown()
    return {"ray_start_seconds": round(start_seconds, 2), "actors": actors, "ocr_fresh": totals["fresh"],
            "missing": totals["missing"]}


def _stream(ray, rows, blocks, todo, store, reader, actors, actor_cpus, actor_gpus, bar, totals) -> None:
    """Send the blocks through the actors and write each one's shard as soon as all its rows are back."""
    parts = [rows.iloc[np.flatnonzero(blocks == b)][ROW_COLUMNS].assign(row_pos=np.flatnonzero(blocks == b), block=b)
             for b in todo]
    with warnings.catch_warnings():  # Ray 2.60 names no parameter for the retries: ray_remote_args is the way
        warnings.simplefilter("ignore", DeprecationWarning)
        dataset = ray.data.from_pandas(parts).map_batches(
            reader, batch_size=None, batch_format="pandas", compute=ray.data.ActorPoolStrategy(size=min(actors, len(parts))),
            num_cpus=actor_cpus, num_gpus=actor_gpus, max_restarts=RETRIES, max_task_retries=RETRIES)
    expected = {b: int((blocks == b).sum()) for b in todo}
    pending: dict[int, list[pd.DataFrame]] = {}
    for batch in dataset.iter_batches(batch_size=None, batch_format="pandas"):
        for block, lines in batch.groupby("block", sort=False):
            if failure := next(iter(lines.loc[lines["failure"] != "", "failure"]), ""):
                raise UserError(f"{failure}; {_kept(store, blocks)}")
            pending.setdefault(int(block), []).append(lines)
            whole = pd.concat(pending[int(block)], ignore_index=True)
            if len(whole) == expected[int(block)]:
                store.put(int(block), whole.drop(columns=["block", "report", "failure"]))
                _tally(whole["report"], totals)
                bar.update(len(whole))
                del pending[int(block)]


def _tally(reports: pd.Series, totals: Counter) -> None:
    for report in reports[reports != ""]:
        fresh, missing, messages = report.split("|", 2)
        totals["fresh"] += int(fresh)
        totals["missing"] += int(missing)
        for message in filter(None, messages.split("\n")):
            totals["named"] += 1
            if totals["named"] <= NAMED_PROBLEMS:
                log.warning("%s", message)


def _finished(store: ShardStore, blocks: np.ndarray, block: int) -> bool:
    return store.done(np.flatnonzero(blocks == block))


def _kept(store: ShardStore, blocks: np.ndarray) -> str:
    done = sum(_finished(store, blocks, b) for b in np.unique(blocks))
    return (f"the {done} finished block(s) are kept beside the output ({store.folder}): started again once this is "
            "mended, the run resumes")


def _split_by_photo(rows, blocks, failed) -> list[int]:
    """Give each photo of the failed blocks a block of its own (numbered after every block there is)."""
    if not failed:
        return []
    log.warning("%d block(s) failed after %d retries: reading their photos one at a time", len(failed), RETRIES)
    next_block, out = int(blocks.max()) + 1, []
    for block in failed:
        for name in dict.fromkeys(rows["image_name"][blocks == block]):
            blocks[(blocks == block) & (rows["image_name"] == name).to_numpy()] = next_block
            out.append(next_block)
            next_block += 1
    return out


def _died_on(rows, blocks, block, store) -> UserError:
    """A photo whose actor died reading it even alone, on every retry: the run ends, naming it."""
    names = [n for n in dict.fromkeys(rows["image_name"][blocks == block]) if n]
    return UserError(f"reading {', '.join(names)} failed: its OCR actor died on each of {RETRIES + 1} tries (memory "
                     f"run out, or a crash); {_kept(store, blocks)}")


__all__ = ["BlockReader", "photo_blocks", "predict_on_ray"]
