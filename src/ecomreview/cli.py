"""Command line: parses arguments and calls one function per command (exit 0 ok, 1 bad input, 2 usage, 3 bug)."""
from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path

from .errors import InputError, UsageError

EXIT_OK, EXIT_INPUT, EXIT_USAGE, EXIT_BUG = 0, 1, 2, 3


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        print(f"ecomreview: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="ecomreview", description="Year-end review kit for cross-border e-commerce sellers.")
    from . import __version__
    p.add_argument("--version", action="version", version=f"ecomreview {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    s = sub.add_parser("init", help="create a workspace with blank templates")
    s.add_argument("dir")

    s = sub.add_parser("demo", help="build the demo seller's workspace and run its full review")
    s.add_argument("--out", default="reports", help="reports folder (default: reports)")
    s.add_argument("--lang", choices=("zh", "en"), default=None)
    s.add_argument("--workspace", default=None, help="where to write the demo workspace (default: a cache folder)")
    s.add_argument("--lines", type=int, default=None, help="number of order lines of the demo data")

    s = sub.add_parser("validate", help="check a workspace and list every problem")
    s.add_argument("dir")

    s = sub.add_parser("run", help="run the review of a workspace")
    s.add_argument("dir")
    s.add_argument("--period", required=True, help="2025 or 2025Q3")
    s.add_argument("--out", default="reports")
    s.add_argument("--lang", choices=("zh", "en"), default=None)
    s.add_argument("--steps", default=None, help="comma-separated steps: audit,channels,products,campaigns,plan")
    s.add_argument("--plan", default=None, help="goal_plan.csv of an annual run, for a quarterly run")

    s = sub.add_parser("batch", help="run the reviews of many clients and periods listed in a YAML file")
    s.add_argument("file", help="batch YAML file (see docs/batch.md)")
    s.add_argument("--workers", type=int, default=None, help="parallel jobs (default: the file's workers, else CPUs)")
    s.add_argument("--out", default=None, help="reports folder (default: the file's out, else reports)")
    s.add_argument("--executor", choices=("local", "dask"), default="local")
    s.add_argument("--scheduler", default=None, help="Dask scheduler address, with --executor dask")
    s.add_argument("--no-progress", action="store_true", help="no progress bar")

    s = sub.add_parser("import", help="import platform exports into a workspace")
    s.add_argument("kind")
    s.add_argument("files", nargs="+")
    s.add_argument("--into", required=True)
    s.add_argument("--channel", default=None)
    s.add_argument("--month", default=None, help="YYYY-MM, for reports without dates")
    s.add_argument("--currency", default=None, help="currency of the export when it does not say")
    s.add_argument("--mapping", default=None, help="YAML column mapping (kind mapping)")
    s.add_argument("--lang", choices=("zh", "en"), default="en")
    return p


def _print_problems(problems, out=None) -> None:
    out = out or sys.stderr  # looked up at call time so redirected/captured stderr is honoured
    for prob in problems:
        tag = "error" if prob.severity == "error" else "warning"
        print(f"  [{tag}] {prob}", file=out)


def cmd_init(a) -> int:
    from .templates import init_workspace
    path = init_workspace(a.dir)
    print(f"workspace created: {path}\nfill the CSV files (or workbook.xlsx), then run: ecomreview validate {a.dir}")
    return EXIT_OK


def cmd_validate(a) -> int:
    from .loader import load_workspace
    from .review import prepare
    ws = load_workspace(a.dir, strict=False)
    problems = list(ws.problems)
    if not ws.errors:
        try:
            review = prepare(ws)
        except InputError as e:
            problems += e.problems
        else:
            n = len(review.lines)
            print(f"{a.dir}: {n:,} order lines ({len(review.cancelled):,} cancelled) from "
                  f"{review.data_start:%Y-%m-%d} to {review.data_end:%Y-%m-%d}; tables: {', '.join(ws.sources)}")
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity != "error"]
    if problems:
        print(f"{len(errors)} error(s), {len(warnings)} warning(s):", file=sys.stderr)
        _print_problems(errors + warnings)
    if errors:
        print("fix the errors above and run validate again.", file=sys.stderr)
        return EXIT_INPUT
    print("OK: the workspace can be reviewed.")
    return EXIT_OK


def _run(workspace, a) -> int:
    from .runner import run_review
    res = run_review(workspace, a.period, out=a.out, lang=a.lang, steps=getattr(a, "steps", None),
                     plan=getattr(a, "plan", None), log=lambda m: print(m, file=sys.stderr))
    print(f"report: {res.index}")
    return EXIT_OK


def cmd_run(a) -> int:
    return _run(a.dir, a)


def cmd_demo(a) -> int:
    from . import demo
    from .context import demo_workspace
    if a.workspace or a.lines:
        folder = Path(a.workspace or "demo_workspace")
        if folder.exists() and any(folder.iterdir()):
            raise UsageError(f"{folder} is not empty; choose another --workspace")
        demo.generate(folder, **({"n_lines": a.lines} if a.lines else {}))
    else:
        folder = demo_workspace()
    print(f"demo workspace: {folder}", file=sys.stderr)
    a.period, a.steps, a.plan = "2025", None, None
    return _run(folder, a)


def cmd_import(a) -> int:
    from .importers import import_files
    options = {k: v for k, v in (("channel", a.channel), ("month", a.month), ("currency", a.currency),
                                 ("mapping", a.mapping)) if v}
    res = import_files(a.kind, a.files, a.into, options=options, lang=a.lang)
    print(res.summary(a.lang))
    return EXIT_OK


def cmd_batch(a) -> int:
    from . import batch
    b = batch.load_batch(a.file)
    if a.out:
        b.out = Path(a.out)
    if a.workers is not None and a.workers < 1:
        raise UsageError("--workers must be at least 1")
    results = batch.run_batch(b, workers=a.workers, executor=a.executor, scheduler=a.scheduler,
                              progress=not a.no_progress)
    batch.print_table(results, b.lang)
    print(f"summary: {b.out / 'batch-summary.csv'}\nindex: {b.out / 'index.html'}")
    return batch.exit_code(results)


COMMANDS = {"init": cmd_init, "validate": cmd_validate, "run": cmd_run, "demo": cmd_demo, "import": cmd_import,
            "batch": cmd_batch}


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except InputError as e:
        print("ecomreview: the input cannot be used:", file=sys.stderr)
        _print_problems(e.problems)
        return EXIT_INPUT
    except UsageError as e:
        print(f"ecomreview: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("ecomreview: interrupted; no report was replaced.", file=sys.stderr)
        return 130
    except Exception as e:  # a bug, or a step notebook that failed: say where, keep details for a report
        from .runner import StepFailed
        if isinstance(e, StepFailed):
            print(f"ecomreview: {e}", file=sys.stderr)
            return EXIT_BUG
        traceback.print_exc()
        print(f"ecomreview: internal error ({type(e).__name__}); please report it with the lines above.",
              file=sys.stderr)
        return EXIT_BUG


if __name__ == "__main__":
    sys.exit(main())
