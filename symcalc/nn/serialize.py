"""The model file format: one ``.npz`` archive, written and read without pickle.

An archive holds float64 arrays (``weight_0``, ``weight_1``, ... in :meth:`get_weights`
order; ``opt_<key>_<name>`` for optimizer state) and one JSON text, ``config``: the
architecture, the loss, the metrics, the optimizer's hyperparameters and step counts, and the
state of the model's random generator (so training resumes with the same batches). Custom
activations and losses are stored as :func:`sympy.srepr` text, read back by the whitelisted
reader :func:`symcalc.nn._srepr.read_srepr`.

Reading trusts nothing in the file: before any array is loaded, each member's ``.npy`` header
is checked (float64 or, for ``config``, text; the declared shape must account for exactly
the member's bytes, so truncated arrays and huge declared sizes are refused without
allocating), the archive's total size and member count are bounded, and arrays are then read
with ``np.load(..., allow_pickle=False)``. Every problem is a :class:`SymcalcError` naming the
member and what was expected.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
import zipfile
from collections.abc import Mapping
from os import PathLike
from typing import Any

import numpy as np
from sympy import srepr

from ..errors import SymcalcError
from ..optimizers import OPTIMIZERS, Optimizer
from .activations import ACTIVATIONS

__all__ = ["FORMAT", "WEIGHTS_FORMAT", "write_archive", "read_archive", "save_model",
           "save_weights", "load_weights", "weights_from", "MAX_ARCHIVE_BYTES",
           "HYPERPARAMETERS", "BIT_GENERATORS"]

FORMAT = "symcalc.nn.Sequential"
WEIGHTS_FORMAT = "symcalc.nn.weights"
VERSION = 1
#: Largest archive (sum of uncompressed members) a loader accepts.
MAX_ARCHIVE_BYTES = 4 * 2**30
_MAX_MEMBERS = 10_000
_MAX_CONFIG_CHARS = 1_000_000
_KEY = re.compile(r"config|weight_\d{1,5}|opt_\d{1,5}_[a-z][a-z0-9_]{0,15}")
#: Hyperparameters of each optimizer, as constructor keywords.
HYPERPARAMETERS: dict[str, tuple[str, ...]] = {
    "gd": ("learning_rate",),
    "sgd": ("learning_rate",),
    "momentum": ("learning_rate", "momentum"),
    "nesterov": ("learning_rate", "momentum"),
    "adam": ("learning_rate", "beta1", "beta2", "epsilon"),
}
#: NumPy bit generators whose state a model file may restore.
BIT_GENERATORS = ("PCG64", "PCG64DXSM", "Philox", "SFC64", "MT19937")


# ---------------------------------------------------------------------------- the archive
def write_archive(path: str | PathLike[str], config: dict[str, Any],
                  arrays: Mapping[str, np.ndarray]) -> None:
    """Write ``config`` (JSON) and float64 ``arrays`` to exactly ``path`` (atomically)."""
    target = os.fspath(path)
    text = json.dumps(config, sort_keys=True)
    members = {"config": np.array(text)}
    members.update({k: np.ascontiguousarray(v, dtype=np.float64) for k, v in arrays.items()})
    folder = os.path.dirname(os.path.abspath(target))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".symcalc-", suffix=".npz.tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **members)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def read_archive(path: str | PathLike[str], what: str = "model file"
                 ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """``(config, arrays)`` from an archive written by :func:`write_archive`, checked."""
    try:
        source = os.fspath(path)
    except TypeError:
        raise SymcalcError(f"{what} path must be a string or path; got "
                           f"{type(path).__name__}") from None
    try:
        with zipfile.ZipFile(source) as zf:
            keys = _check_members(zf, source, what)
        with np.load(source, allow_pickle=False) as data:
            arrays = {k: data[k] for k in keys}
    except FileNotFoundError:
        raise SymcalcError(f"{what} {source!r} does not exist") from None
    except SymcalcError:
        raise
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, KeyError, RuntimeError,
            MemoryError) as exc:
        raise SymcalcError(
            f"{what} {source!r} is not a readable symcalc archive (.npz of float64 arrays): "
            f"{type(exc).__name__}: {exc}"
        ) from None
    config = _parse_config(arrays.pop("config"), source, what)
    return config, arrays


def _check_members(zf: zipfile.ZipFile, source: str, what: str) -> list[str]:
    infos = zf.infolist()
    if len(infos) > _MAX_MEMBERS:
        raise SymcalcError(f"{what} {source!r} has {len(infos)} members; at most "
                           f"{_MAX_MEMBERS} are read")
    if sum(i.file_size for i in infos) > MAX_ARCHIVE_BYTES:
        raise SymcalcError(f"{what} {source!r} declares more than {MAX_ARCHIVE_BYTES} bytes "
                           "of data; refused")
    keys = []
    for info in infos:
        key = info.filename[:-4] if info.filename.endswith(".npy") else ""
        if not _KEY.fullmatch(key):
            raise SymcalcError(f"{what} {source!r} has an unexpected member "
                               f"{info.filename[:80]!r}")
        with zf.open(info) as f:
            _check_header(f, info, key, what)
        keys.append(key)
    if "config" not in keys:
        raise SymcalcError(f"{what} {source!r} has no config member")
    return keys


def _check_header(f: Any, info: zipfile.ZipInfo, key: str, what: str) -> None:
    """The .npy header: allowed dtype, and a shape that accounts for exactly the bytes."""
    version = np.lib.format.read_magic(f)
    read = {(1, 0): np.lib.format.read_array_header_1_0,
            (2, 0): np.lib.format.read_array_header_2_0}.get(version)
    if read is None:
        raise SymcalcError(f"{what}: member {key!r} has unsupported .npy version {version}")
    shape, _, dtype = read(f)
    text = key == "config"
    ok = (dtype.kind == "U" and shape == ()) if text else dtype == np.dtype("<f8")
    if not ok:
        want = "a text scalar" if text else "float64 values"
        raise SymcalcError(f"{what}: member {key!r} must hold {want}; it declares dtype "
                           f"{dtype.str} and shape {shape} (object and pickled arrays are "
                           "never loaded)")
    count = math.prod(shape)
    declared = f.tell() + count * dtype.itemsize
    if declared != info.file_size:
        raise SymcalcError(
            f"{what}: member {key!r} declares shape {shape} ({count * dtype.itemsize} bytes of "
            f"data) but holds {info.file_size - f.tell()} bytes; the file is truncated or "
            "corrupt"
        )


def _parse_config(raw: np.ndarray, source: str, what: str) -> dict[str, Any]:
    text = str(raw[()])
    if len(text) > _MAX_CONFIG_CHARS:
        raise SymcalcError(f"{what} {source!r}: config longer than {_MAX_CONFIG_CHARS} "
                           "characters")
    try:
        config = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise SymcalcError(f"{what} {source!r}: config is not valid JSON ({exc})") from None
    if not isinstance(config, dict):
        raise SymcalcError(f"{what} {source!r}: config must be a JSON object")
    return config


# ---------------------------------------------------------------------------- saving
def _activation_config(act: Any) -> dict[str, Any]:
    if act.rowwise or (act.name in ACTIVATIONS and act.expr == ACTIVATIONS[act.name]):
        return {"name": act.name}
    return {"name": act.name, "srepr": srepr(act.expr)}


def _optimizer_config(opt: Optimizer) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    if type(opt) not in OPTIMIZERS.values() or opt.name not in HYPERPARAMETERS:
        raise SymcalcError(
            f"cannot save the optimizer {opt!r}: only symcalc's {sorted(HYPERPARAMETERS)} can "
            "be saved (save_weights saves the weights of any model)"
        )
    state, arrays = [], {}
    for key, slot in sorted(opt.state.items(), key=lambda kv: str(kv[0])):
        if not isinstance(key, int):
            raise SymcalcError(f"cannot save optimizer state under key {key!r}")
        entry = {"key": key, "t": int(slot.get("t", 0)), "shape": list(slot["shape"]),
                 "arrays": []}
        for name, value in sorted(slot.items()):
            if name in ("t", "shape"):
                continue
            arrays[f"opt_{key}_{name}"] = np.broadcast_to(
                np.asarray(value, dtype=np.float64), slot["shape"])
            entry["arrays"].append(name)
        state.append(entry)
    hyper = {h: float(getattr(opt, h)) for h in HYPERPARAMETERS[opt.name]}
    return {"name": opt.name, "hyper": hyper, "state": state}, arrays


def _rng_config(rng: np.random.Generator) -> dict[str, Any]:
    state = rng.bit_generator.state
    if state.get("bit_generator") == "MT19937":
        state = {**state, "state": {"key": state["state"]["key"].tolist(),
                                    "pos": int(state["state"]["pos"])}}
    return state


def save_model(model: Any, path: str | PathLike[str]) -> None:
    """See :meth:`symcalc.nn.Sequential.save`."""
    model._build()
    layers = [{"class": "Dense", "units": layer.units, "use_bias": layer.use_bias,
               "kernel_initializer": layer.kernel_initializer, "name": layer.name,
               "input_dim": layer.input_dim, "activation": _activation_config(layer.activation)}
              for layer in model.layers]
    arrays = {f"weight_{i}": w for i, w in enumerate(model.get_weights())}
    config: dict[str, Any] = {"format": FORMAT, "version": VERSION, "name": model.name,
                              "layers": layers, "rng": _rng_config(model._rng)}
    if model.loss is not None:
        opt, opt_arrays = _optimizer_config(model.optimizer)
        arrays.update(opt_arrays)
        config["compile"] = {"loss": model.loss.config(), "optimizer": opt,
                             "metrics": [m if isinstance(m, str) else
                                         {"callable": getattr(m, "__name__", type(m).__name__)}
                                         for m in model._metric_specs]}
    write_archive(path, config, arrays)


def save_weights(model: Any, path: str | PathLike[str]) -> None:
    """See :meth:`symcalc.nn.Sequential.save_weights`."""
    weights = model.get_weights()
    config = {"format": WEIGHTS_FORMAT, "version": VERSION,
              "shapes": [list(w.shape) for w in weights]}
    write_archive(path, config, {f"weight_{i}": w for i, w in enumerate(weights)})


def weights_from(arrays: Mapping[str, np.ndarray], shapes: list[tuple[int, ...]],
                 what: str) -> list[np.ndarray]:
    """The ``weight_i`` arrays, which must be exactly ``len(shapes)`` of those shapes."""
    found = sorted((k for k in arrays if k.startswith("weight_")),
                   key=lambda k: int(k.split("_")[1]))
    expected = [f"weight_{i}" for i in range(len(shapes))]
    if found != expected:
        raise SymcalcError(f"{what} holds weight arrays {found[:8]}; the model needs "
                           f"{len(shapes)} ({expected[:8]}...)")
    out = []
    for key, shape in zip(expected, shapes):
        if arrays[key].shape != tuple(shape):
            raise SymcalcError(f"{what}: {key} has shape {arrays[key].shape}; the model "
                               f"needs {tuple(shape)}")
        if not np.isfinite(arrays[key]).all():
            raise SymcalcError(f"{what}: {key} contains NaN or infinity")
        out.append(np.array(arrays[key], dtype=np.float64, order="C"))
    return out


def load_weights(model: Any, path: str | PathLike[str]) -> None:
    """See :meth:`symcalc.nn.Sequential.load_weights`."""
    config, arrays = read_archive(path, "weights file")
    if config.get("format") not in (FORMAT, WEIGHTS_FORMAT):
        raise SymcalcError(f"weights file {os.fspath(path)!r} is not a symcalc model or "
                           f"weights file (format {str(config.get('format'))[:60]!r})")
    shapes = [w.shape for w in model.get_weights()]
    model.set_weights(weights_from(arrays, shapes, f"weights file {os.fspath(path)!r}"))
