from __future__ import annotations

import json
from pathlib import Path

import typer
from ..taxonomy import taxonomy
from . import app
from .common import COLUMNS_HELP, console, parse_columns, stdout, user_errors


def print_metrics(metrics: dict, title: str) -> None:
    from rich.table import Table

    stdout.print(
        f"[b]{title}[/b]: {metrics['samples']:,} ads - accuracy {metrics['accuracy']:.3f}, "
        f"macro-F1 {metrics['macro_f1']:.3f}, module accuracy {metrics['module_accuracy']:.3f}"
    )
    if metrics["accuracy"] >= 1:
        stdout.print("no errors among these ads: nothing for confidence to rank")
    elif "confidence" in metrics:
        c = metrics["confidence"]
        stdout.print(
            f"review: the {c['review_share']:.0%} least confident rows (confidence < {c['review_threshold']:.2f}) hold "
            f"{c['review_capture']:.0%} of the errors; ECE {c['ece']:.3f}"
        )
    if "review_status" in metrics and metrics["accuracy"] < 1:
        r = metrics["review_status"]
        stdout.print(
            f"status review (confidence < {r['threshold']:.2f} or the top two roles within {r['min_margin']}): "
            f"{r['share']:.0%} of the rows, {r['capture']:.0%} of the errors"
        )
    if "by_sureness" in metrics:
        levels = [f"{name} {m['accuracy']:.0%} right ({m['ads']:,} ads, {m['error_share']:.0%} of the errors)" for name, m in metrics["by_sureness"].items()]
        stdout.print(f"by the annotator's sureness: {', '.join(levels)}")
    if "two_readings" in metrics:
        t = metrics["two_readings"]
        stdout.print(
            f"on the {t['ads']:,} ads two annotators read differently (labelled with the adjudicated reading): the model picks "
            f"the adjudicated reading {t['adjudicated']:.0%}, the other reading {t['other_reading']:.0%}, neither {t['neither']:.0%}"
        )
    if "title_only" in metrics:
        t = metrics["title_only"]
        r = t["review_status"]
        stdout.print(
            f"title only (each ad's title alone, as a file of titles gives it): accuracy {t['accuracy']:.3f}, macro-F1 {t['macro_f1']:.3f}, "
            f"module accuracy {t['module_accuracy']:.3f}, ECE {t['confidence']['ece']:.3f}; status review (confidence < {r['threshold']:.2f}): "
            f"{r['share']:.0%} of the rows, {r['capture']:.0%} of the errors"
        )
    if "business_type" in metrics:
        print_business(metrics["business_type"], "business type")
    table = Table("role", "中文", "precision", "recall", "F1", "support", title="per role")
    for role, m in metrics["per_role"].items():
        table.add_row(role, taxonomy().role(role).zh, f"{m['precision']:.2f}", f"{m['recall']:.2f}", f"{m['f1']:.2f}", str(m["support"]))
    stdout.print(table)
    confusions = Table("true role", "predicted", "count", title="most frequent confusions")
    for c in metrics["confusions"][:10]:
        confusions.add_row(c["true"], c["predicted"], str(c["count"]))
    stdout.print(confusions)


def print_business(b: dict, title: str) -> None:
    """The business-type metrics: overall, per type, and the confusion counts."""
    from rich.table import Table

    from ..business import business_types

    stdout.print(
        f"[b]{title}[/b]: {b['ads']:,} ads - accuracy {b['accuracy']:.3f}, macro-F1 {b['macro_f1']:.3f}, "
        f"to-B vs to-C {b['to_b_vs_to_c_accuracy']:.3f}, to-B / to-C / unclear {b['to_b_to_c_unclear_accuracy']:.3f}"
    )
    types = list(b["confusion"])
    table = Table("true type", *[business_types()[t]["zh"] for t in business_types()], "recall", "F1", title=f"{title}: true (rows) × predicted")
    for t in types:
        row = b["confusion"][t]
        table.add_row(f"{t} {business_types()[t]['zh']}", *(str(row[p]) for p in business_types()), f"{b['per_type'][t]['recall']:.2f}", f"{b['per_type'][t]['f1']:.2f}")
    stdout.print(table)


def print_side_by_side(a: dict, b: dict, name_a: str, name_b: str, title: str) -> None:
    """Two models' metrics on the same labelled ads: overall, then per role."""
    from rich.table import Table

    overall = Table("", name_a, name_b, "change", title=title)
    for key, label in (("accuracy", "accuracy"), ("macro_f1", "macro-F1"), ("module_accuracy", "module accuracy")):
        overall.add_row(label, f"{a[key]:.3f}", f"{b[key]:.3f}", f"{b[key] - a[key]:+.3f}")
    if "confidence" in a and "confidence" in b:
        for key, label in (("review_capture", "review capture"), ("ece", "ECE")):
            ca, cb = a["confidence"][key], b["confidence"][key]
            overall.add_row(label, f"{ca:.3f}", f"{cb:.3f}", f"{cb - ca:+.3f}")
    stdout.print(overall)
    roles = Table("role", "中文", f"F1 {name_a}", f"F1 {name_b}", "change", "support", title="per role")
    for role, mb in b["per_role"].items():
        fa = a["per_role"].get(role, {}).get("f1", 0.0)
        roles.add_row(role, taxonomy().role(role).zh, f"{fa:.2f}", f"{mb['f1']:.2f}", f"{mb['f1'] - fa:+.2f}", str(mb["support"]))
    stdout.print(roles)


@app.command("train")
def train_cli(
    labelled: list[str] = typer.Argument(None, metavar="[LABELLED]...", help="Labelled postings (a `role` column); default: the bundled labels."),
    output: Path = typer.Option(None, "--output", "-o", help="Model folder to write; default: a new folder models/trained-DATE-TIME. The shipped models/default is replaced only with --force."),
    force: bool = typer.Option(False, "--force", help="Replace the shipped model (models/default) when -o names it."),
    folds: int = typer.Option(5, help="Cross-validation folds (stratified; reposts of one ad stay in one fold); 0 or 1 skips cross-validation."),
    backend: str = typer.Option("rjieba", help="Tokenizer backend: rjieba (fast) or jieba (reference)."),
    c: float = typer.Option(1.0, "--C", help="Inverse regularisation strength of the SVM."),
    as_json: bool = typer.Option(False, "--json", help="Print the cross-validation metrics as JSON on stdout."),
    columns: str = typer.Option(None, "--columns", help=COLUMNS_HELP),
    add: list[str] = typer.Option(None, "--add", help="Your labelled files (a filled review sheet, a Label Studio export, any table with a `role` column) on top of LABELLED (default: the bundled labels); your label wins on the same ad."),
) -> None:
    """Train a classifier on labelled postings, cross-validate it, and save the model folder."""
    from rich.table import Table

    from ..estimator import RoleClassifier
    from ..ingest.sources import SourceError
    from ..model_store import ModelError
    from ..outputs import OutputError
    from ..taxonomy import TaxonomyError
    from ..train import TrainingDataError, train

    with user_errors(TrainingDataError, SourceError, TaxonomyError, ModelError, OutputError, ValueError):
        with console.status("training (cross-validation, then the final fit)..."):
            result = train(labelled or None, output, force=force, folds=folds, classifier=RoleClassifier(backend=backend, C=c), columns=parse_columns(columns), add=add or None)
    for problem in result.data.problems:
        console.print(f"[yellow]left out:[/yellow] {problem}", highlight=False)
    for warning in result.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}", highlight=False)
    counts = Table("role", "samples", title="class counts")
    for role, n in result.data.class_counts().items():
        counts.add_row(role, str(n))
    console.print(counts)
    if result.merged:
        m = result.merged
        console.print(f"added {m.added:,} labelled ads: {m.overridden:,} bundled ads relabelled, {m.confirmed:,} confirmed", highlight=False)
    if result.cv_metrics:
        if as_json:
            typer.echo(json.dumps(result.cv_metrics, ensure_ascii=False, indent=2))
        elif "before" in result.cv_metrics:
            print_side_by_side(result.cv_metrics["before"], result.cv_metrics, "without your labels", "with your labels", f"{result.cv_metrics['folds']}-fold cross-validation, same folds")
        else:
            print_metrics(result.cv_metrics, f"{result.cv_metrics['folds']}-fold cross-validation")
    business = result.model.metadata.get("business_type")
    if business and business.get("cv_metrics") and not as_json:
        cv = business["cv_metrics"]
        print_business(cv["per ad"], f"business type, {cv['folds']}-fold cross-validation grouped by company ({cv['companies']:,} companies)")
        pooled = cv["pooled by company"]
        stdout.print(f"pooled by company instead (company_business_type): accuracy {pooled['accuracy']:.3f}, macro-F1 {pooled['macro_f1']:.3f}, to-B vs to-C {pooled['to_b_vs_to_c_accuracy']:.3f}")
        if "learning_curve" in cv:
            points = ", ".join(f"{share} of the companies: macro-F1 {m['macro_f1']:.3f}, to-B vs to-C {m['to_b_vs_to_c_accuracy']:.3f}" for share, m in cv["learning_curve"].items())
            stdout.print(f"business type learning curve: {points}")
    console.print(f"saved model {result.model.id} to {result.model.path} in {result.seconds:.0f}s")
