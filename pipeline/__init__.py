"""tobroles: classify Chinese job ads into 25 to-B operations roles in 3 modules, and report on them.

The stages, each a module: ingest (raw files → canonical postings), tokenize, classify (the
estimator), batch (files in, files out), report; plus taxonomy and model_store.

    from pipeline import load_model
    model = load_model()                 # the shipped model, verified
    labelled = model.classify(frame)     # frame + role, module, confidence, alternatives, status

Ingestion is the package `pipeline.ingest` (`from pipeline.ingest import ingest`); training is
`from pipeline.train import train, compare_models`.

Names are imported on first use: `tobroles --help` must not pay for scikit-learn.
"""

from importlib import import_module

_EXPORTS = {
    "ClassifyOptions": "batch", "classify_dask": "batch", "classify_files": "batch",
    "RoleClassifier": "estimator", "Model": "model_store", "load_model": "model_store",
    "build_report": "report", "load_classified": "report", "write_report": "report", "evaluate": "train",
}
# `train`, `run` and `taxonomy` are also module names, so they are imported from their modules
# (`from pipeline.train import train`): a lazily bound name could be shadowed by the module.
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'pipeline' has no attribute {name!r}")
    value = getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value
    return value
