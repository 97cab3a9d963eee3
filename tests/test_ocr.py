"""The real OCR engines on rendered and real images, the cache, and the runner's resume."""

import sqlite3
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest

from prodspec.candidates import runtimes
from prodspec.candidates.cache import OcrCache
from prodspec.candidates.engines import make_engine
from prodspec.candidates.ocr import FAST, OcrSettings
from prodspec.candidates.parse import parse_boxes
from prodspec.candidates.run_ocr import ocr_images
from prodspec.candidates.runtimes import (
    RECOGNISERS,
    BucketedCudaModel,
    OnnxRuntimeModel,
    OpenVinoModel,
    model_paths,
    recogniser_characters,
)
from prodspec.candidates.workers import (
    CUDA_WORKERS,
    cuda_workers,
    default_workers,
    gpu_free_mib,
    worker_failure,
)
from prodspec.dataset.errors import UserError
from prodspec.dataset.images import file_digest, load_rgb
from tests.render import render_label

FIXTURES = Path(__file__).parent / "fixtures"


def quantities(boxes):
    return {(round(c.value, 4), c.unit) for c in parse_boxes(boxes)}


@pytest.fixture(scope="module")
def rapid():
    return make_engine(OcrSettings(threads=2))


def test_rendered_label_with_a_rotated_height(tmp_path):
    path = render_label(tmp_path / "label.jpg", ["NET WT 500g", "230V ~ 50Hz", "Power 1200W"], vertical="H 12.5 cm")
    plain = quantities(make_engine(OcrSettings(threads=2).with_changes(**FAST)).read(load_rgb(path)))
    assert {(500.0, "gram"), (230.0, "volt"), (1200.0, "watt")} <= plain
    assert (12.5, "centimetre") not in plain  # the detector cuts vertical text into fragments
    boxes = make_engine(OcrSettings(threads=2)).read(load_rgb(path))
    assert {(500.0, "gram"), (230.0, "volt"), (1200.0, "watt"), (12.5, "centimetre")} <= quantities(boxes)
    # the turned strip's box comes back in the photo's coordinates: upright, at the left edge
    height_box = next(b for b in boxes if "12.5" in b.text)
    assert height_box.right < 110 and height_box.height > 2 * height_box.width


def test_detector_size_is_honoured(tmp_path):
    # 16 px letters on a 1600 px photo: legible at the default detector size, about 3 px (lost) at 320 px
    path = render_label(tmp_path / "wide.jpg", ["NET WT 500g"], size=(1600, 1000), font_size=16)
    assert (500.0, "gram") in quantities(make_engine(OcrSettings(threads=2)).read(load_rgb(path)))
    small = make_engine(OcrSettings(threads=2, det_limit_side=320)).read(load_rgb(path))
    assert (500.0, "gram") not in quantities(small)


def test_memory_arena_changes_speed_not_readings():
    image = load_rgb(FIXTURES / "dimension_drawing.jpg")
    ort = OcrSettings(threads=2, runtime="onnxruntime")
    with_arena = make_engine(ort).read(image)
    without = make_engine(ort.with_changes(memory_arena=False)).read(image)
    assert [(b.text, b.points) for b in with_arena] == [(b.text, b.points) for b in without]
    assert ort.with_changes(memory_arena=False, rec_batch=16).fingerprint() == ort.fingerprint()


def test_compiled_models_kept_on_disk_read_as_freshly_compiled_ones(rapid, tmp_path):
    # the first engine compiles and stores the models; the second loads them (a third of the start-up time)
    image = load_rgb(FIXTURES / "dimension_drawing.jpg")
    make_engine(OcrSettings(threads=2), tmp_path / "compiled")
    assert any((tmp_path / "compiled").iterdir())
    loaded = make_engine(OcrSettings(threads=2), tmp_path / "compiled").read(image)
    assert loaded and loaded == rapid.read(image)
    # a damaged store (a disk filled mid-write, a copied cache) must not change a reading or stop the run
    for blob in (tmp_path / "compiled").iterdir():
        blob.write_bytes(b"not a compiled model")
    assert make_engine(OcrSettings(threads=2), tmp_path / "compiled").read(image) == loaded


def test_a_compiled_model_store_that_fails_compiles_afresh(tmp_path, monkeypatch, caplog):
    # OpenVINO repairs a damaged blob itself (above); one that cannot use its store at all (a read-only or
    # full disk) raises, and the worker must then compile without the store rather than stop
    import openvino

    real = openvino.Core.compile_model
    with_store = set()

    def refuse_with_store(core, *args, **kwargs):
        if id(core) in with_store:
            raise RuntimeError("cannot write the model cache")
        return real(core, *args, **kwargs)

    real_set = openvino.Core.set_property

    def remember_store(core, properties):
        with_store.add(id(core))
        return real_set(core, properties)

    monkeypatch.setattr(openvino.Core, "set_property", remember_store)
    monkeypatch.setattr(openvino.Core, "compile_model", refuse_with_store)
    runtimes._warn_once.cache_clear()
    path, batch = model_paths("ppocrv4")["Cls"], np.zeros((2, 3, 48, 192), np.float32)
    model = OpenVinoModel(path, 1, "f32", compiled_dir=tmp_path / "compiled")
    assert "compiling afresh" in caplog.text
    np.testing.assert_allclose(model(batch)[0], OnnxRuntimeModel(path, 1, cuda=False)(batch)[0], atol=1e-4)


def test_openvino_f32_reads_as_onnxruntime_does():
    image = load_rgb(FIXTURES / "dimension_drawing.jpg")
    ort = make_engine(OcrSettings(threads=2, runtime="onnxruntime")).read(image)
    openvino = make_engine(OcrSettings(threads=2, runtime="openvino", precision="f32")).read(image)
    assert [b.text for b in openvino] == [b.text for b in ort]


def test_runtime_and_precision_are_part_of_the_cache_key(monkeypatch):
    # as on a CPU that runs bf16 (where it cannot, bf16 runs as f32 under f32's key: the test below)
    monkeypatch.setattr("prodspec.candidates.ocr.native_bf16", lambda: True)
    keys = {OcrSettings(runtime=r, precision=p).fingerprint() for r, p in
            [("openvino", "bf16"), ("openvino", "f32"), ("onnxruntime", "f32")]}
    assert len(keys) == 3
    # ONNX Runtime runs these models in f32 whatever precision is asked for
    assert OcrSettings(runtime="onnxruntime", precision="bf16").fingerprint() == OcrSettings(runtime="onnxruntime").fingerprint()
    with pytest.raises(ValueError, match="unknown OCR runtime"):
        make_engine(OcrSettings(runtime="tensorrt"))


def test_bf16_only_where_the_cpu_has_it(monkeypatch):

    monkeypatch.setattr("prodspec.candidates.ocr.native_bf16", lambda: False)
    assert OcrSettings().as_run().precision == "f32"
    assert OcrSettings().fingerprint() == OcrSettings(precision="f32").fingerprint()
    monkeypatch.setattr("prodspec.candidates.ocr.native_bf16", lambda: True)
    assert OcrSettings().as_run().precision == "bf16"


def test_ppocrv6_recogniser_reads_what_ppocrv4_misreads():
    # a crop of a dev photo: PP-OCRv4 reads `NETWT.3kg(6.6b)`, losing the pound value; PP-OCRv6 small keeps
    # the spaces and the `l` (README, "OCR engines")
    image = load_rgb(FIXTURES / "net_weight_3kg_6.6lb.jpg")
    v4 = quantities(make_engine(OcrSettings(threads=2, recogniser="ppocrv4")).read(image))
    v6 = quantities(make_engine(OcrSettings(threads=2)).read(image))
    assert (3.0, "kilogram") in v4 and (6.6, "pound") not in v4
    assert {(3.0, "kilogram"), (6.6, "pound")} <= v6


def test_recogniser_files_agree_with_the_model():
    import onnxruntime

    for name in RECOGNISERS:
        path, characters = model_paths(name)["Rec"], recogniser_characters(name)
        assert path.is_file(), name
        if characters is not None:  # CTC outputs: blank + the file's characters + space
            session = onnxruntime.InferenceSession(str(path))
            out = session.run(None, {session.get_inputs()[0].name: np.zeros((1, 3, 48, 320), np.float32)})[0]
            assert out.shape[-1] == len(characters.read_text(encoding="utf-8").splitlines()) + 2, name
    with pytest.raises(ValueError, match="unknown recogniser"):
        model_paths("ppocrv9")


def test_recogniser_is_part_of_the_cache_key():
    assert OcrSettings().fingerprint() != OcrSettings(recogniser="ppocrv4").fingerprint()
    # EasyOCR has no say in it, and a model trained before the setting existed read with PP-OCRv4
    assert OcrSettings(engine="easyocr").fingerprint() == OcrSettings(engine="easyocr", recogniser="ppocrv4").fingerprint()
    saved = asdict(OcrSettings())
    del saved["recogniser"]
    assert OcrSettings.from_meta(saved).recogniser == "ppocrv4"
    assert OcrSettings.from_meta(asdict(OcrSettings())) == OcrSettings()


def test_real_dimension_drawing(rapid):
    found = quantities(rapid.read(load_rgb(FIXTURES / "dimension_drawing.jpg")))
    assert {(29.53, "inch"), (9.84, "inch"), (19.69, "inch")} <= found


def test_blank_image_gives_no_boxes(rapid):
    import numpy as np

    assert rapid.read(np.full((200, 300, 3), 255, dtype=np.uint8)) == []


def test_easyocr_reads_offline_weights(tmp_path):
    path = render_label(tmp_path / "label.jpg", ["NET WT 500g"], size=(480, 120))
    engine = make_engine(OcrSettings(engine="easyocr", threads=2, det_limit_side=640))
    assert (500.0, "gram") in quantities(engine.read(load_rgb(path)))


def test_cache_and_resume(tmp_path):
    images = [render_label(tmp_path / f"l{i}.jpg", [f"{100 + i} g"], size=(320, 100)) for i in range(2)]
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 not really")
    cache = OcrCache(tmp_path / "cache", shipped_dir=None)
    settings = OcrSettings(threads=1)
    first = ocr_images([images[0], broken], settings, cache, workers=1, progress=False)
    assert any((tmp_path / "cache" / "openvino").glob("*.blob"))  # the compiled models, beside the readings
    assert not first[images[0]].cached and first[broken].boxes == [] and first[broken].missing
    # a file that does not decode is not cached as an image with no text: it is counted and named every run
    assert cache.get(file_digest(broken), settings.fingerprint()) is None
    # a second run (as after a kill) reads the done image from the cache and only OCRs the new one
    second = ocr_images(images + [tmp_path / "missing.jpg"], settings, cache, workers=1, progress=False)
    assert second[images[0]].cached and not second[images[1]].cached
    assert second[tmp_path / "missing.jpg"].boxes == []
    assert (101.0, "gram") in quantities(second[images[1]].boxes)
    # other settings are another key: never a stale hit
    assert cache.get(file_digest(images[0]), settings.with_changes(box_thresh=0.4).fingerprint()) is None
    snapshot = tmp_path / "snap" / "ocr.parquet"
    assert cache.export({file_digest(p) for p in images}, settings.fingerprint(), snapshot) == 2
    shipped = OcrCache(tmp_path / "other", shipped_dir=snapshot.parent)
    assert shipped.get(file_digest(images[1]), settings.fingerprint()) is not None


def test_thumbnails_are_enlarged_before_detection():
    # a real 500 x 232 dev photo: its height label `22.86cm` is a few pixels high and the detector misses it
    # at the photo's own size; enlarged to 1000 px it is read, and the box comes back in the photo's pixels
    image = load_rgb(FIXTURES / "thumbnail_drawing.jpg")
    as_is = make_engine(OcrSettings(threads=2, upscale_to=0)).read(image)
    assert (22.86, "centimetre") not in quantities(as_is)
    enlarged = make_engine(OcrSettings(threads=2)).read(image)
    assert (22.86, "centimetre") in quantities(enlarged)
    height_box = next(b for b in enlarged if "22.86" in b.text)
    assert 0 <= height_box.left < height_box.right <= image.shape[1]
    assert 0 <= height_box.top < height_box.bottom <= image.shape[0] / 2  # printed at the top right


def test_cuda_shape_buckets_give_the_outputs_of_the_unpadded_input():
    # the CUDA path pads inputs to a few fixed shapes (a CUDA convolution re-plans whenever its shape changes);
    # run here on ONNX Runtime's CPU fallback, its outputs must come back cut to what the unpadded input gives
    paths, rng = model_paths(OcrSettings().recogniser), np.random.default_rng(0)
    for part, steps, shape in [("Det", (1, 1, 480, 480), (1, 3, 320, 224)), ("Cls", (6, 1, 1, 1), (3, 3, 48, 192)),
                               ("Rec", (32, 1, 1, 320), (5, 3, 48, 400))]:
        batch = rng.random(shape, dtype=np.float32)
        plain = OnnxRuntimeModel(paths[part], 2, cuda=False)(batch)[0]
        bucketed = BucketedCudaModel(paths[part], 2, part, steps)
        padded = bucketed(batch)[0]
        assert padded.shape == plain.shape, part
        if part == "Cls":  # the batch's items are independent: padding the batch changes nothing
            np.testing.assert_allclose(padded, plain, atol=1e-5)
        bucketed(batch[:, :, : shape[2] - 32] if part == "Det" else batch[:1])
        assert len(bucketed.sessions) == 1, part  # a smaller input in the same bucket reuses its session
        # the recogniser's sessions shrink their GPU arena after each run on CUDA (its attention's buffers
        # filled an H100 without it); ONNX Runtime refuses that run option where no GPU arena exists, so on
        # the CPU fallback they must run without it
        sessions = bucketed.sessions.values()
        assert all(session.shrink_gpu_arena == (part == "Rec") for session in sessions), part
        assert all(session.run_options is None for session in sessions), part



def test_cuda_asked_for_but_not_there_says_so(caplog):
    # onnxruntime-gpu falls back to the CPU in silence when CUDA's libraries are missing; here there is no CUDA

    runtimes._warn_once.cache_clear()  # said once a process: an earlier test may have said it
    OnnxRuntimeModel(model_paths("ppocrv4")["Cls"], 1, cuda=True)
    assert "CUDA was asked for but ONNX Runtime runs" in caplog.text


def test_cuda_runs_fewer_workers_than_cores(monkeypatch):
    # each worker holds its own CUDA sessions: one per core ran an H100 out of memory
    monkeypatch.setattr("os.cpu_count", lambda: 16)
    assert default_workers(OcrSettings(device="cuda")) == CUDA_WORKERS < 16
    assert default_workers(OcrSettings(device="cpu")) == 16


def test_gpu_out_of_memory_says_what_to_do_in_one_line():
    # the error an OCR worker raised on an H100 (PP-OCRv6 recogniser, 8 workers, before its arenas were shrunk)
    seen = RuntimeError("[ONNXRuntimeError] : 1 : FAIL : Non-zero status code returned while running Concat node. "
                        "Name:'Concat.0' Status Message: /onnxruntime_src/onnxruntime/core/framework/bfc_arena.cc:360 "
                        "void* onnxruntime::BFCArena::AllocateRawInternal(size_t, bool, onnxruntime::Stream*) Failed "
                        "to allocate memory for requested buffer of size 235929600\n")
    said = worker_failure(seen, workers=8, done=41)
    assert isinstance(said, UserError) and "\n" not in str(said)
    assert "8 workers" in str(said) and "41 images" in str(said) and "fewer --workers" in str(said)
    # a worker killed outright (the kernel's out-of-memory killer) breaks the pool: the same advice
    killed = worker_failure(BrokenProcessPool("A process in the process pool was terminated abruptly"), 2, 7)
    assert isinstance(killed, UserError) and "died" in str(killed) and "7 images" in str(killed)
    other = ValueError("unknown recogniser 'x'")
    assert worker_failure(other, workers=8, done=0) is other  # any other error is raised as it came
    alone = worker_failure(seen, workers=1, done=3)  # one worker: no advice to use fewer
    assert isinstance(alone, UserError) and "one image at a time" in str(alone) and "--workers" not in str(alone)


def test_a_single_worker_out_of_memory_ends_in_one_line_and_keeps_what_it_read(tmp_path, monkeypatch):
    from prodspec.candidates import run_ocr

    images = [render_label(tmp_path / f"m{i}.jpg", [f"{200 + i} g"], size=(320, 100)) for i in range(2)]
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(b"not a jpeg")
    cache = OcrCache(tmp_path / "cache", shipped_dir=None)
    settings = OcrSettings(threads=1)
    real = run_ocr._read_one

    def second_runs_out(name, read_text):
        if name == images[1].name:
            raise RuntimeError("Failed to allocate memory for requested buffer of size 235929600")
        return real(name, read_text)

    monkeypatch.setattr(run_ocr, "_read_one", second_runs_out)
    # the photo that does not decode is not cached, so not counted
    with pytest.raises(UserError, match="out of memory reading one image at a time .* 1 images read so far"):
        ocr_images([corrupt, *images], settings, cache, workers=1, progress=False)
    assert cache.get(file_digest(images[0]), settings.fingerprint()) is not None
    assert cache.get(file_digest(images[1]), settings.fingerprint()) is None


def test_a_cache_that_cannot_be_written_is_named_not_taken_for_ocr_out_of_memory(tmp_path, monkeypatch):
    # SQLite's own "out of memory" (or a full disk) while storing a reading is the cache's failure, not the OCR's:
    # the advice to run fewer workers would not help
    images = [render_label(tmp_path / f"w{i}.jpg", [f"{400 + i} g"], size=(320, 100)) for i in range(2)]
    cache = OcrCache(tmp_path / "cache", shipped_dir=None)
    real_put = cache.put

    def second_put_fails(digest, settings, boxes, seconds):
        if digest == file_digest(images[1]):
            raise sqlite3.OperationalError("out of memory")
        real_put(digest, settings, boxes, seconds)

    monkeypatch.setattr(cache, "put", second_put_fails)
    with pytest.raises(UserError, match=r"cannot write the OCR cache .*ocr\.sqlite: out of memory; the 1 images"):
        ocr_images(images, OcrSettings(threads=1), cache, workers=1, progress=False)
    assert cache.get(file_digest(images[0]), OcrSettings(threads=1).fingerprint()) is not None


def test_a_pool_whose_workers_die_ends_in_one_line(tmp_path):
    # real worker processes that cannot start (here: a recogniser the workers cannot load) break the pool;
    # the run stops with the pool's one-line message rather than a traceback or a hang over queued images
    images = [render_label(tmp_path / f"p{i}.jpg", [f"{300 + i} g"], size=(320, 100)) for i in range(4)]
    cache = OcrCache(tmp_path / "cache", shipped_dir=None)
    settings = OcrSettings(threads=1, recogniser="no-such-recogniser")
    with pytest.raises(UserError, match=r"an OCR worker died \(2 workers.*0 images read so far"):
        ocr_images(images, settings, cache, workers=2, progress=False)


def test_cuda_workers_fit_the_gpus_free_memory():
    # 8 workers peaked at 28 GB on an H100: a 24 GB card gets 6, a nearly full one still 1
    assert cuda_workers(80_000) == CUDA_WORKERS == 8
    assert cuda_workers(24_576) == 6 and cuda_workers(1_000) == 1
    assert cuda_workers(None) == CUDA_WORKERS  # no nvidia-smi to ask


def test_gpu_free_memory_is_read_from_nvidia_smi_for_the_first_visible_gpu(tmp_path, monkeypatch):
    # a stand-in nvidia-smi on PATH: it notes its arguments and prints what the real one prints
    tool = tmp_path / "nvidia-smi"
    tool.write_text(f'#!/bin/sh\necho "$@" > {tmp_path}/args\nprintf "$REPLY"\nexit "$STATUS"\n')
    tool.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3,1")
    monkeypatch.setenv("REPLY", "40960\\n")
    monkeypatch.setenv("STATUS", "0")
    assert gpu_free_mib() == 40960
    assert (tmp_path / "args").read_text().split()[:2] == ["-i", "3"]  # the GPU that CUDA counts first
    monkeypatch.setenv("REPLY", "[N/A]\\n")  # what it prints where the driver cannot say
    assert gpu_free_mib() is None
    monkeypatch.setenv("REPLY", "")
    monkeypatch.setenv("STATUS", "9")  # no devices found, or no driver loaded
    assert gpu_free_mib() is None
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no nvidia-smi at all
    assert gpu_free_mib() is None


def test_cuda_readings_have_a_cache_key_of_their_own():
    # on CUDA the inputs are padded to fixed shapes, which shifts the readings from the CPU's ONNX Runtime ones
    cpu = OcrSettings(device="cpu", runtime="onnxruntime")
    assert OcrSettings(device="cuda").fingerprint() != cpu.fingerprint()
    assert OcrSettings(device="cpu", threads=1).fingerprint() == OcrSettings(device="cpu").fingerprint()
