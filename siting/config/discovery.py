"""Where a scenario's inputs are: the user's real files, else generated stand-ins in the cache.

A county scenario names two places in ``[inputs]``:

- ``real`` — a folder of the user's own files, relative to the scenario file
  (``../data/zhengzhou/zhongmu``);
- ``generated`` — the name of a folder in the **cache** (``zhongmu``), where
  ``siting generate`` writes its seeded stand-ins.

The real folder is used when it holds every file the scenario names; the generated folder when
it holds none of them. A real folder holding only some of them is an error listing the missing
ones, never silently replaced by generated data.

The cache folder is, in this order: the folder given (``--cache DIR`` on the command line), the
``SITING_CACHE`` environment variable, ``$XDG_CACHE_HOME/siting``, ``~/.cache/siting``. It is
never inside the installed package; generated files are the same, byte for byte, wherever it is.
"""

from __future__ import annotations

import os
from pathlib import Path

from siting._errors import ScenarioError

CACHE_ENV = "SITING_CACHE"
"""The environment variable naming the cache folder (``--cache`` overrides it)."""

STAMP = "GENERATED.json"
"""The file ``siting generate`` writes last in a generated folder."""


def cache_dir(given: str | Path | None = None) -> Path:
    """The cache folder: ``given``, else $SITING_CACHE, $XDG_CACHE_HOME/siting, ~/.cache/siting.

    Parameters
    ----------
    given
        A folder named on the command line (``--cache DIR``); None or '' to look further.

    Returns
    -------
    Path
        The folder, absolute (it need not exist yet).
    """
    for value in (given, os.environ.get(CACHE_ENV)):
        if value:
            return Path(value).expanduser().resolve()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return (base / "siting").resolve()


def choose_inputs(table: dict[str, object], path: Path, *,
                  cache: str | Path | None = None) -> tuple[Path, bool]:
    """The folder input paths are relative to, and whether it holds generated data.

    Parameters
    ----------
    table
        The scenario file's TOML table (before validation).
    path
        The scenario file.
    cache
        The cache folder (see :func:`cache_dir`).

    Returns
    -------
    tuple of Path and bool
        The inputs folder, and True when it holds generated stand-ins. Without ``[inputs]``:
        the scenario's own folder.

    Raises
    ------
    ScenarioError
        When the real folder holds only some of the files, or no folder holds any.
    """
    here = path.resolve().parent
    inputs = table.get("inputs")
    if not isinstance(inputs, dict):
        return here, (here / STAMP).is_file()
    real, gen = input_folders(inputs, here, path, cache=cache)
    names = named_files(table)
    have = [n for n in names if real is not None and real.is_dir() and _present(real, n)]
    if real is not None and have and len(have) == len(names):
        return real, False
    if have:
        missing = ", ".join(n for n in names if n not in have)
        raise ScenarioError(
            f"{path}: the real inputs folder {real} holds {', '.join(have)} but not {missing}. "
            "Add the missing files (see the README, 'A real county run'), or move the folder "
            "away to run on generated data.")
    if gen is not None and (gen / STAMP).is_file():
        return gen, True
    raise _no_inputs(path, real, gen, names)


def _no_inputs(path: Path, real: Path | None, gen: Path | None,
               names: list[str]) -> ScenarioError:
    if gen is None:
        return ScenarioError(f"{path}: no input files in {real} (expected {', '.join(names)}). "
                             "Put the files there, or fix [inputs] real.")
    where = f"{real} holds none of {', '.join(names)}, and " if real is not None else ""
    command = f"siting generate {gen.name} --cache {gen.parent}"
    return ScenarioError(
        f"{path}: no input files: {where}no generated data is in {gen}. "
        + (f"Put the real files in {real}, or generate " if real is not None else "Generate ")
        + f"stand-ins with `{command}` (or `siting run --generate`; --cache, or the "
        f"{CACHE_ENV} variable, must name the same cache folder).")


def input_folders(inputs: dict[str, object], here: Path, path: Path, *,
                  cache: str | Path | None = None) -> tuple[Path | None, Path | None]:
    """The [inputs] real folder (resolved against ``here``) and generated folder (in the cache)."""
    real = inputs.get("real")
    gen = inputs.get("generated")
    return ((here / real).resolve() if isinstance(real, str) else None,
            generated_folder(gen, path, cache=cache) if isinstance(gen, str) else None)


def generated_folder(name: str, path: Path, *, cache: str | Path | None = None) -> Path:
    """The cache folder ``[inputs] generated = name`` names: ``<cache>/<name>``."""
    if not name or Path(name).name != name or name in (".", ".."):
        raise ScenarioError(
            f"{path}: [inputs] generated = '{name}': give the name of a generated folder (the "
            "county slug, e.g. generated = \"zhongmu\"), not a path; generated inputs live in "
            f"the cache folder (--cache DIR or {CACHE_ENV}; default ~/.cache/siting).")
    return cache_dir(cache) / name


def fallback(table: dict[str, object], path: Path, *,
             cache: str | Path | None = None) -> tuple[str, Path, int] | None:
    """(name, folder, seed) when the scenario runs on generated data (no real files), else None."""
    inputs = table.get("inputs")
    if not isinstance(inputs, dict):
        return None
    real, gen = input_folders(inputs, path.resolve().parent, path, cache=cache)
    if gen is None:
        return None
    names = named_files(table)
    if real is not None and real.is_dir() and any(_present(real, n) for n in names):
        return None
    seed = inputs.get("seed", 2021)
    return gen.name, gen, seed if isinstance(seed, int) else 2021


def named_files(table: dict[str, object]) -> list[str]:
    """The input file names a scenario table gives (before validation)."""
    names = []
    net = table.get("network")
    if isinstance(net, dict) and isinstance(net.get("osm"), str):
        names.append(net["osm"])
    layers = table.get("layers")
    if isinstance(layers, dict):
        names += [v["path"] for v in layers.values()
                  if isinstance(v, dict) and isinstance(v.get("path"), str)]
    fac = table.get("facilities")
    if isinstance(fac, dict) and isinstance(fac.get("path"), str):
        names.append(fac["path"])
    return names


def _present(folder: Path, name: str) -> bool:
    if any(ch in name for ch in "*?["):
        return any(folder.glob(name))
    return (folder / name).exists()
