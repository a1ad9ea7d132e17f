"""tobroles: classify Chinese job ads into 25 to-B operations roles in 3 modules, and report on them.

The stages, each a module: ingest (raw files → canonical postings), tokenize, classify (the
estimator), batch (files in, files out), report; plus taxonomy and model_store.

    from pipeline import load_model
    model = load_model()                 # the shipped model, verified
    labelled = model.classify(frame)     # frame + role, module, confidence, alternatives, status
"""

from .batch import ClassifyOptions, classify_dask, classify_files
from .classify import RoleClassifier
from .ingest import ingest
from .model_store import Model, load_model
from .report import build_report, load_classified, write_report
from .run import run
from .taxonomy import taxonomy
from .train import evaluate, train

__all__ = [
    "ClassifyOptions", "Model", "RoleClassifier", "build_report", "classify_dask", "classify_files",
    "evaluate", "ingest", "load_classified", "load_model", "run", "taxonomy", "train", "write_report",
]
