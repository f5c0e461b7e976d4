"""Lazy package attributes: a name's module is imported on first access (PEP 562)."""

import importlib


def lazy_attributes(package, exports):
    """``(__getattr__, __dir__)`` for ``package`` whose ``exports`` map names to modules.

    A name whose module is ``""`` is the submodule ``package.name`` itself.
    """

    def __getattr__(name):
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = importlib.import_module(exports[name] or f"{package}.{name}")
        value = module if not exports[name] else getattr(module, name)
        globals_of_package = importlib.import_module(package).__dict__
        globals_of_package[name] = value  # later lookups skip __getattr__
        return value

    def __dir__():
        return sorted({*importlib.import_module(package).__dict__, *exports})

    return __getattr__, __dir__
