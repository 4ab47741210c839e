"""``load_model``: rebuild a :class:`~symcalc.nn.Sequential` from a file written by ``save``.

The archive is read and checked by :mod:`symcalc.nn.serialize`; here the config is validated
field by field (types, ranges, names from the built-in tables) and checked against the arrays
before anything is built, so a hostile or damaged file fails with a :class:`SymcalcError`
naming the field, never by allocating what it declares or by running code. Custom activations
and losses come back from their ``srepr`` text through the whitelisted reader.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from os import PathLike
from typing import Any

import numpy as np

from ..errors import SymcalcError
from ..optimizers import OPTIMIZERS
from ._srepr import read_srepr
from .activations import ACTIVATIONS, Activation, get_activation
from .layers import INITIALIZERS, Dense
from .losses import LOSSES, LossFunction, get_loss
from .model import Sequential
from .rowwise import ROW_ACTIVATIONS
from .serialize import BIT_GENERATORS, FORMAT, HYPERPARAMETERS, read_archive, weights_from

__all__ = ["load_model"]

_MAX_LAYERS = 1000
_MAX_UNITS = 10**8


def load_model(path: str | PathLike[str], *, custom_objects: Mapping[str, Callable] | None = None,
               compile: bool = True) -> Sequential:
    """Load a model saved by :meth:`Sequential.save`.

    The model predicts exactly as the saved one (same float64 weights, same compiled
    activations) and, when compiled, resumes training where it stopped: the optimizer's state
    and the model's shuffling generator are restored, so ``fit`` continues with the batches
    and steps an uninterrupted run would have taken.

    Parameters
    ----------
    path : str or path-like
    custom_objects : dict {name: callable}, optional
        The Python functions of callable metrics, by name (a file holds no code).
    compile : bool
        False loads the architecture and weights only.

    Raises
    ------
    SymcalcError
        For a missing, damaged or hostile file (no code in it is ever run).

    Examples
    --------
    >>> import os, tempfile, numpy as np, symcalc as sc
    >>> model = sc.nn.Sequential([sc.nn.Dense(3, "tanh", input_dim=2), sc.nn.Dense(1)], seed=0)
    >>> path = os.path.join(tempfile.mkdtemp(), "model.symcalc.npz")
    >>> model.compile("adam", "mse").save(path)
    >>> X = np.ones((4, 2))
    >>> bool((sc.nn.load_model(path).predict(X) == model.predict(X)).all())
    True
    """
    config, arrays = read_archive(path)
    where = f"model file {os.fspath(path)!r}"
    if config.get("format") != FORMAT or config.get("version") != 1:
        raise SymcalcError(f"{where} is not a symcalc Sequential model (format "
                           f"{str(config.get('format'))[:60]!r}, version "
                           f"{str(config.get('version'))[:20]!r})")
    layers = _layers(_field(config, "layers", list, where), where)
    model = Sequential(layers, name=_name(config.get("name", "sequential"), "name", where))
    shapes = [(layer.input_dim, layer.units) if attr == "W" else (layer.units,)
              for layer, attr in model._weight_slots()]
    weights = weights_from(arrays, shapes, where)
    for (layer, attr), w in zip(model._weight_slots(), weights):
        setattr(layer, attr, w)  # shapes checked: no initializer runs at the declared size
    model._rng = _generator(_field(config, "rng", dict, where), where)
    if compile and "compile" in config:
        _compile(model, _field(config, "compile", dict, where), arrays, custom_objects, where)
    return model


def _field(d: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in d:
        raise SymcalcError(f"{where}: missing field {key!r}")
    value = d[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise SymcalcError(f"{where}: field {key!r} must be {names}; got "
                           f"{type(value).__name__}")
    return value


def _name(value: Any, key: str, where: str) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= 200 or not value.isprintable():
        raise SymcalcError(f"{where}: {key} must be a printable name of at most 200 characters")
    return value


def _count(d: Mapping[str, Any], key: str, where: str, low: int, high: int) -> int:
    value = _field(d, key, int, where)
    if not low <= value <= high:
        raise SymcalcError(f"{where}: {key} must be in [{low}, {high}]; got {value}")
    return value


def _layers(specs: list[Any], where: str) -> list[Dense]:
    if not 1 <= len(specs) <= _MAX_LAYERS:
        raise SymcalcError(f"{where}: a model needs 1 to {_MAX_LAYERS} layers; got {len(specs)}")
    out = []
    for i, spec in enumerate(specs):
        at = f"{where}, layer {i}"
        if not isinstance(spec, dict) or spec.get("class") != "Dense":
            raise SymcalcError(f"{at}: only Dense layers are known")
        init = _field(spec, "kernel_initializer", str, at)
        if init not in INITIALIZERS:
            raise SymcalcError(f"{at}: unknown kernel_initializer {init[:40]!r}")
        units = _count(spec, "units", at, 1, _MAX_UNITS)
        input_dim = _count(spec, "input_dim", at, 1, _MAX_UNITS)
        layer = Dense(units, activation=_activation(_field(spec, "activation", dict, at), at),
                      input_dim=input_dim, use_bias=_field(spec, "use_bias", bool, at),
                      kernel_initializer=init, name=_name(spec.get("name"), "name", at))
        if out and out[-1].units != input_dim:
            raise SymcalcError(f"{at}: input_dim {input_dim} does not match the previous "
                               f"layer's {out[-1].units} units")
        out.append(layer)
    return out


def _activation(spec: Mapping[str, Any], where: str) -> Any:
    name = _name(spec.get("name"), "activation name", where)
    if "srepr" not in spec:
        if name not in ACTIVATIONS and name not in ROW_ACTIVATIONS:
            raise SymcalcError(f"{where}: unknown activation {name[:40]!r} (custom activations "
                               "are stored as srepr text)")
        return get_activation(name)
    expr = read_srepr(spec["srepr"], f"{where}: activation {name[:40]!r}")
    return Activation(expr, name=name)


def _loss(spec: Mapping[str, Any], where: str) -> Any:
    name = _name(spec.get("name"), "loss name", where)
    if "srepr" in spec:
        return LossFunction(read_srepr(spec["srepr"], f"{where}: loss {name[:40]!r}"), name=name)
    if name not in LOSSES:
        raise SymcalcError(f"{where}: unknown loss {name[:40]!r}")
    from_logits = spec.get("from_logits")
    if from_logits is not None and not isinstance(from_logits, bool):
        raise SymcalcError(f"{where}: from_logits must be true or false")
    return get_loss(name, from_logits=from_logits)


def _metrics(specs: list[Any], custom: Mapping[str, Callable] | None, where: str) -> list[Any]:
    out: list[Any] = []
    for spec in specs:
        if isinstance(spec, str):
            out.append(_name(spec, "metric", where))
            continue
        name = _name(spec.get("callable") if isinstance(spec, dict) else None, "metric", where)
        if custom is None or name not in custom or not callable(custom[name]):
            raise SymcalcError(
                f"{where}: metric {name!r} is a Python function, which a model file does not "
                f"hold; pass load_model(..., custom_objects={{{name!r}: {name}}})"
            )
        out.append(custom[name])
    return out


def _compile(model: Sequential, spec: Mapping[str, Any], arrays: Mapping[str, np.ndarray],
             custom: Mapping[str, Callable] | None, where: str) -> None:
    opt_spec = _field(spec, "optimizer", dict, where)
    opt_name = _field(opt_spec, "name", str, where)
    if opt_name not in OPTIMIZERS or opt_name not in HYPERPARAMETERS:
        raise SymcalcError(f"{where}: unknown optimizer {opt_name[:40]!r}")
    hyper = _field(opt_spec, "hyper", dict, where)
    if set(hyper) != set(HYPERPARAMETERS[opt_name]) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in hyper.values()):
        raise SymcalcError(f"{where}: optimizer {opt_name} needs numbers for "
                           f"{list(HYPERPARAMETERS[opt_name])}")
    optimizer = OPTIMIZERS[opt_name](**hyper)
    model.compile(optimizer, _loss(_field(spec, "loss", dict, where), where),
                  metrics=_metrics(_field(spec, "metrics", list, where), custom, where))
    slots = model._weight_slots()
    for entry in _field(opt_spec, "state", list, where):
        at = f"{where}, optimizer state"
        if not isinstance(entry, dict):
            raise SymcalcError(f"{at}: entries must be objects")
        key = _count(entry, "key", at, 0, len(slots) - 1)
        layer, attr = slots[key]
        shape = getattr(layer, attr).shape
        if _field(entry, "shape", list, at) != list(shape):
            raise SymcalcError(f"{at} {key}: shape {entry['shape']} differs from the weight's "
                               f"{list(shape)}")
        slot: dict[str, Any] = {"shape": shape, "t": _count(entry, "t", at, 0, 2**62)}
        for name in _field(entry, "arrays", list, at):
            arr = arrays.get(f"opt_{key}_{name}") if isinstance(name, str) else None
            if arr is None or arr.shape != shape or not np.isfinite(arr).all():
                raise SymcalcError(f"{at} {key}: array {str(name)[:20]!r} is missing, not of "
                                   f"shape {shape}, or not finite")
            slot[name] = np.array(arr)
        optimizer.state[key] = slot


def _generator(state: Mapping[str, Any], where: str) -> np.random.Generator:
    name = state.get("bit_generator")
    if name not in BIT_GENERATORS:
        raise SymcalcError(f"{where}: unknown random generator {str(name)[:40]!r}")
    bit_generator = getattr(np.random, name)()
    try:
        bit_generator.state = dict(state)
    except (ValueError, TypeError, KeyError, OverflowError) as exc:
        raise SymcalcError(f"{where}: invalid {name} generator state ({exc})") from None
    return np.random.Generator(bit_generator)
