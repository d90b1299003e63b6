"""What the command-line modules share: the model registry and parsing of `--set/--option/--solver`
(a module of its own, so that `landjax.cli` and `landjax.sweep_cli` import it and not
each other)."""

from __future__ import annotations

from typing import Any

#: model name -> package implementing the model contract
MODELS: dict[str, str] = {
    "claims": "landjax.models.claims",
    "urban_rural": "landjax.models.urban_rural",
    "quota_trade": "landjax.models.quota_trade",
    "land_debt": "landjax.models.land_debt",
    "helpman": "landjax.models.helpman",
}

PAPERS = ("zuo2019", "cheng_liu2021", "ma_ni", "zhao_liu2024", "rrh2017")


def parse_pairs(items: list[str] | None, flag: str) -> dict[str, str]:
    """`["A=1", "B=x"]` from a repeated `--flag NAME=VALUE` option -> `{"A": "1", "B": "x"}`
    (whitespace around names and values dropped; one NAME given twice with different values is
    an `InputError`, not a silent choice of one)."""
    from landjax.errors import InputError

    out: dict[str, str] = {}
    for item in items or []:
        if "=" not in item:
            raise InputError(f"--{flag} {item!r}: expected NAME=VALUE")
        k, v = item.split("=", 1)
        if not k.strip():
            raise InputError(f"--{flag} {item!r}: empty NAME")
        k, v = k.strip(), v.strip()
        if k in out and out[k] != v:
            raise InputError(f"--{flag} {k}: given twice ({k}={out[k]} and {k}={v}); give it once")
        out[k] = v
    return out


def model_spec(name: str) -> Any:
    """The `ModelSpec` of a model (its package's `MODEL`)."""
    import importlib

    from landjax.errors import InputError

    if name not in MODELS:
        raise InputError(f"unknown model {name!r}; choose one of: {', '.join(MODELS)}")
    return importlib.import_module(MODELS[name]).MODEL


def build_inputs(spec: Any, sets: dict[str, str], opts: dict[str, str], solver: dict[str, str]) -> tuple:
    """Parameters, options and solver settings of a model from `--set/--option/--solver` text.

    Compatibility: `--option NAME=VALUE` naming a parameter or a solver setting is accepted as
    `--set` / `--solver` (the quota-trade command line took them that way)."""
    from landjax.contract import parse_param
    from landjax.errors import InputError

    pinfo = spec.Params.fields_info()
    sinfo = {i.name for i in spec.Solver.registry()} if spec.Solver is not None else set()
    oinfo = {i.name for i in spec.Options.registry()}
    for k in list(opts):
        target, flag = (sets, "set") if k in pinfo else (solver, "solver") if k in sinfo else (None, "")
        if k in oinfo or target is None:
            continue
        v = opts.pop(k)
        if k in target and target[k] != v:
            raise InputError(f"{k}: given twice, as --option {k}={v} and --{flag} {k}={target[k]}; give it once")
        target[k] = v
    bad = [k for k in sets if k not in pinfo]
    if bad:
        raise InputError(f"unknown parameter(s) {', '.join(bad)}; valid parameters: {', '.join(pinfo)}")
    values = {k: parse_param("Params", k, v, pinfo[k]) for k, v in sets.items()}
    params = spec.Params(**values)
    options = spec.Options.from_strings(opts)
    if spec.Solver is None:
        if solver:
            raise InputError(f"model {spec.name} has no solver settings; got {', '.join(solver)}")
        return params, options, None
    return params, options, spec.Solver.from_strings(solver)
