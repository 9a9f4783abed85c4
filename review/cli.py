"""The ``review`` command: thin wrappers, one library call each (notebooks call the same functions).

JSON goes to stdout; progress and messages go to stderr. Every :class:`ReviewError` is caught
in :func:`main` and printed as one line on stderr with exit status 1.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from review import __version__
from review.errors import ReviewError

__all__ = ["cli", "main"]

PATH = click.Path(path_type=Path)
EXISTING = click.Path(exists=True, dir_okay=False, path_type=Path)


def _say(message: str) -> None:
    click.echo(message, err=True)


def _json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def _in_project(directory: Path, action: Callable[..., str], *args: Any, **kwargs: Any) -> None:
    """Open the project in ``directory``, make the command's one library call on it and print
    the summary it returns (the body shared by the workbook, table and PRISMA commands)."""
    from review.project import open_project

    with open_project(directory) as project:
        _say(action(project, *args, **kwargs))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="review")
def cli() -> None:
    """Run a systematic review: search, import, dedup, screen, extract, pool, PRISMA."""


# --- project -------------------------------------------------------------------------------


@cli.command()
@click.argument("directory", type=PATH)
@click.option("--protocol", "protocol", type=EXISTING, required=True, help="Protocol YAML file.")
def init(directory: Path, protocol: Path) -> None:
    """Create a review project in DIRECTORY from a protocol."""
    from review.project import init_project

    with init_project(directory, protocol) as project:
        _say(f"created project {project.protocol.id!r} in {project.root}")


@cli.command()
@click.argument("directory", type=PATH)
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON on stdout.")
def status(directory: Path, as_json: bool) -> None:
    """Show record, search, import and dedup counts of a project."""
    from review.project import open_project, project_status

    with open_project(directory) as project:
        counts = project_status(project)
    if as_json:
        _json(counts)
    else:
        unfinished = counts.pop("unfinished_imports")
        for key, value in counts.items():
            click.echo(f"{key:>16}: {value}")
        for p in unfinished:
            click.echo(
                f"unfinished import: {p['file']} as {p['source']!r}, begun {p['started_at']} "
                f"({p['entries_kept']} entries kept): run `review import` on it again to complete it"
            )


# --- search --------------------------------------------------------------------------------


@cli.command()
@click.argument("directory", type=PATH)
@click.option("--eutils-url", help="E-utilities base URL (default NCBI's).")
@click.option("--email", envvar="NCBI_EMAIL", help="Your e-mail, sent to NCBI (or NCBI_EMAIL).")
@click.option("--api-key", envvar="NCBI_API_KEY", help="NCBI API key: 10 requests/s instead of 3.")
@click.option(
    "--tool", envvar="NCBI_TOOL", default="review", show_default=True, help="Tool name sent to NCBI."
)
@click.option("--label", "labels", multiple=True, help="Run only the protocol queries with these labels.")
@click.option(
    "--batch-size",
    type=click.IntRange(1, 10000),
    default=1000,
    show_default=True,
    help="Records per efetch call.",
)
def search(
    directory: Path,
    eutils_url: str | None,
    email: str | None,
    api_key: str | None,
    tool: str,
    labels: tuple[str, ...],
    batch_size: int,
) -> None:
    """Run the protocol's PubMed queries and store new records."""
    from review.project import open_project
    from review.project.search import run_searches

    with open_project(directory) as project:
        runs = run_searches(
            project,
            eutils_url=eutils_url,
            email=email,
            api_key=api_key,
            tool=tool,
            labels=labels or None,
            batch_size=batch_size,
        )
    for run in runs:
        _say(f"{run.label}: {run.count} hits, {run.retrieved} retrieved, {run.new_records} new records")


# --- import, export, dedup -----------------------------------------------------------------


@cli.command("import")
@click.argument("directory", type=PATH)
@click.argument("file", type=EXISTING)
@click.option("--source", required=True, help="Database name, e.g. embase, scopus, cinahl.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", "ris", "medline", "pubmed-xml", "csv", "wos", "cochrane", "endnote-xml"]),
    default="auto",
    show_default=True,
    help="File format (detected by default).",
)
def import_(directory: Path, file: Path, source: str, fmt: str) -> None:
    """Import a database export (RIS, MEDLINE/.nbib, PubMed XML, CSV, Web of Science or Cochrane
    Library plain text, EndNote XML)."""
    from review.project import open_project
    from review.project.imports import import_file

    with open_project(directory) as project:
        result = import_file(project, file, source=source, fmt=fmt)
    # every error is shown; a flood of warnings is cut short (all are in result.issues_file)
    errors = [w for w in result.warnings if w.startswith("error: ")]
    warnings = [w for w in result.warnings if not w.startswith("error: ")]
    shown = 50
    for line in errors + [f"warning: {w}" for w in warnings[:shown]]:
        _say(line)
    if len(warnings) > shown:
        _say(f"... and {len(warnings) - shown} more warnings")
    if result.issues_file is not None:
        _say(f"all {len(result.warnings)} warnings and errors of this import: {result.issues_file}")
    _say(result.summary())
    if result.new_file and result.errors:
        _say(
            f"error: {len(result.errors)} entries of {file.name} were not imported (the rest were stored); "
            "fix the lines named above and import the corrected file: entries already stored are not added again"
        )
        sys.exit(1)


@cli.command()
@click.argument("directory", type=PATH)
@click.option("--format", "fmt", type=click.Choice(["ris", "csv"]), default="ris", show_default=True)
@click.option("--out", type=PATH, required=True, help="File to write (an existing one is refused).")
@click.option("--force", is_flag=True, help="Overwrite --out if it exists.")
def export(directory: Path, fmt: str, out: Path, force: bool) -> None:
    """Export the deduplicated library for Zotero or EndNote."""
    from review.project import open_project
    from review.project.imports import export_library

    with open_project(directory) as project:
        n = export_library(project, out, fmt=fmt, force=force)
    _say(f"wrote {n} records to {out}")


@cli.command()
@click.argument("directory", type=PATH)
@click.option(
    "--answers",
    type=EXISTING,
    default=None,
    help="A filled dedup_review.xlsx: read people's answers on uncertain pairs first.",
)
def dedup(directory: Path, answers: Path | None) -> None:
    """Group duplicate records across all sources; uncertain pairs go to dedup_review.xlsx."""
    from review.project import open_project
    from review.project.dedup import run_dedup

    with open_project(directory) as project:
        result = run_dedup(project, answers=answers)
    _say(result.summary())


@cli.command("dedup-file")
@click.argument("input_file", metavar="INPUT", type=EXISTING)
@click.option("--out", type=PATH, required=True, help="CSV of id,group to write.")
def dedup_file_cmd(input_file: Path, out: Path) -> None:
    """Deduplicate one library file (no project): writes id,group per record."""
    from review.project.dedup import dedup_file

    result = dedup_file(input_file, out)
    for warning in result.warnings[:20]:
        _say(f"warning: {warning}")
    if len(result.warnings) > 20:
        _say(f"... and {len(result.warnings) - 20} more warnings")
    _say(result.summary())
    if result.errors:
        sys.exit(1)


# --- screening -----------------------------------------------------------------------------


@cli.group()
def screen() -> None:
    """Title/abstract and full-text screening through Excel workbooks."""


STAGES = click.Choice(["title-abstract", "full-text"])


@screen.command("export")
@click.argument("directory", type=PATH)
@click.option("--stage", type=STAGES, required=True)
@click.option("--reviewer", required=True, help="The screener's name.")
@click.option("--out", type=PATH, required=True, help="Workbook to write (.xlsx).")
def screen_export(directory: Path, stage: str, reviewer: str, out: Path) -> None:
    """Write a screening workbook of the records a reviewer still has to screen."""
    from review.project.screen import export_screening

    _in_project(directory, export_screening, stage=stage, reviewer=reviewer, out=out)


@screen.command("import")
@click.argument("directory", type=PATH)
@click.argument("file", type=EXISTING)
@click.option(
    "--force",
    is_flag=True,
    help="Import an older copy of a workbook even though it overturns newer decisions.",
)
def screen_import(directory: Path, file: Path, force: bool) -> None:
    """Read a filled screening (or conflict) workbook back into the store."""
    from review.project.screen import import_screening

    _in_project(directory, import_screening, file, force=force)


@screen.command("status")
@click.argument("directory", type=PATH)
@click.option("--json", "as_json", is_flag=True, help="Print as JSON on stdout.")
def screen_status(directory: Path, as_json: bool) -> None:
    """Progress per stage and reviewer, agreement (Cohen's kappa) and conflicts."""
    from review.project import open_project
    from review.project.screen import format_screening_status, screening_status

    with open_project(directory) as project:
        data = screening_status(project)
    if as_json:
        _json(data)
    else:
        click.echo(format_screening_status(data))


@screen.command("conflicts")
@click.argument("directory", type=PATH)
@click.option("--stage", type=STAGES, default="title-abstract", show_default=True)
@click.option("--reviewer", default="resolver", show_default=True, help="The third reviewer's name.")
@click.option("--out", type=PATH, required=True, help="Workbook to write (.xlsx).")
def screen_conflicts(directory: Path, stage: str, reviewer: str, out: Path) -> None:
    """Export the records two reviewers disagree on, for a third reviewer to resolve."""
    from review.project.screen import export_conflicts

    _in_project(directory, export_conflicts, stage=stage, reviewer=reviewer, out=out)


# --- extraction ----------------------------------------------------------------------------


@cli.group()
def extract() -> None:
    """Data extraction through Excel forms."""


@extract.command("export")
@click.argument("directory", type=PATH)
@click.option("--form", required=True, help="Form name in extraction_forms/ or a YAML path.")
@click.option("--reviewer", required=True)
@click.option("--out", type=PATH, required=True, help="Workbook to write (.xlsx).")
def extract_export(directory: Path, form: str, reviewer: str, out: Path) -> None:
    """Write an extraction workbook with the included studies pre-filled."""
    from review.project.extract import export_extraction

    _in_project(directory, export_extraction, form=form, reviewer=reviewer, out=out)


@extract.command("import")
@click.argument("directory", type=PATH)
@click.argument("file", type=EXISTING)
@click.option("--force", is_flag=True, help="Import a workbook exported before the reviewer's latest import.")
def extract_import(directory: Path, file: Path, force: bool) -> None:
    """Read a filled extraction workbook back (validated cell by cell)."""
    from review.project.extract import import_extraction

    _in_project(directory, import_extraction, file, force=force)


@extract.command("conflicts")
@click.argument("directory", type=PATH)
@click.option("--out", type=PATH, required=True, help="Workbook of disagreements to write (.xlsx).")
@click.option("--resolver", default="resolver", show_default=True, help="Who settles the disagreements.")
def extract_conflicts(directory: Path, out: Path, resolver: str) -> None:
    """List cell by cell where two extractors disagree, for resolution."""
    from review.project.extract import export_extraction_conflicts

    _in_project(directory, export_extraction_conflicts, out=out, resolver=resolver)


@extract.command("table")
@click.argument("directory", type=PATH)
@click.option("--out-dir", type=PATH, default=None, help="Folder for the tidy CSV and Excel table.")
def extract_table(directory: Path, out_dir: Path | None) -> None:
    """Write the tidy effect-size table (pooling's input) as CSV and Excel."""
    from review.project.extract import write_effect_table

    _in_project(directory, write_effect_table, out_dir=out_dir)


class _Number(click.ParamType):
    """A number as copied from a paper: a decimal comma (5,5) or a typographic minus (−3) too."""

    name = "number"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, float):
            return value
        from review.extraction import number_text

        text = number_text(str(value))
        if text.count(",") == 1 and "." not in text:
            if re.fullmatch(r"-?[1-9]\d{0,2},\d{3}", text):
                self.fail(
                    f"{value!r} could be a decimal comma or a thousands separator; type it with a decimal point"
                )
            text = text.replace(",", ".")
        try:
            return float(text)
        except ValueError:
            self.fail(f"{value!r} is not a number", param, ctx)


_NUMBER = _Number()


@cli.command()
@click.argument("kind", type=click.Choice(["se", "ci", "median-iqr", "median-range", "median-iqr-range"]))
@click.option("--n", type=int, required=True, help="Group size.")
@click.option("--mean", type=_NUMBER)
@click.option("--se", type=_NUMBER)
@click.option("--low", type=_NUMBER, help="Lower 95% confidence limit of the mean.")
@click.option("--high", type=_NUMBER, help="Upper 95% confidence limit of the mean.")
@click.option("--median", type=_NUMBER)
@click.option("--q1", type=_NUMBER)
@click.option("--q3", type=_NUMBER)
@click.option("--min", "minimum", type=_NUMBER)
@click.option("--max", "maximum", type=_NUMBER)
@click.option("--json", "as_json", is_flag=True, help="Print as JSON on stdout.")
def convert(kind: str, n: int, as_json: bool, **values: float | None) -> None:
    """Mean and SD of one group from its reported summary statistics (Cochrane Handbook 6.5.2)."""
    from review.conversions import convert_summary

    result = convert_summary(kind, n, **{k: v for k, v in values.items() if v is not None})
    data = {"mean": result.mean, "sd": result.sd, "method": result.method}
    if as_json:
        _json(data)
    else:
        click.echo(f"mean {result.mean:.6g}, SD {result.sd:.6g} ({result.method})")


# --- pooling -------------------------------------------------------------------------------


@cli.command()
@click.argument("input_file", metavar="INPUT", type=EXISTING)
@click.option(
    "--measure",
    type=click.Choice(["MD", "SMD", "ROM", "RR", "OR", "RD", "GEN"]),
    default=None,
    help="Effect measure (needed for arm-level data).",
)
@click.option(
    "--method",
    type=click.Choice(["FE", "DL", "REML", "PM", "MH", "PETO"]),
    default=None,
    help="Pooling method (default REML).",
)
@click.option("--hksj", is_flag=True, help="Hartung-Knapp-Sidik-Jonkman adjustment.")
@click.option("--mod", "moderator", help="Meta-regression on this numeric column.")
@click.option("--subgroup", help="Subgroup analysis on this column.")
@click.option("--json", "json_out", type=PATH, help="Write the result as JSON to this file.")
@click.option("--forest", type=PATH, help="Also draw a forest plot (PNG and SVG) at this path.")
@click.option("--title", default=None, help="Forest plot title (default: measure and method).")
def meta(
    input_file: Path,
    measure: str | None,
    method: str | None,
    hksj: bool,
    moderator: str | None,
    subgroup: str | None,
    json_out: Path | None,
    forest: Path | None,
    title: str | None,
) -> None:
    """Pool one CSV of studies (no project needed)."""
    from review.project.meta import format_meta, run_meta

    result = run_meta(
        input_file,
        measure=measure,
        method=method,
        hksj=hksj,
        moderator=moderator,
        subgroup=subgroup,
        forest=forest,
        title=title,
    )
    if json_out is not None:
        json_out.write_text(json.dumps(result, indent=2, allow_nan=False, default=str), encoding="utf-8")
    click.echo(format_meta(result))


@cli.command()
@click.argument("directory", type=PATH)
@click.option("--out-dir", type=PATH, default=None, help="Folder for workbooks, CSV and plots.")
def pool(directory: Path, out_dir: Path | None) -> None:
    """Pool every outcome x comparison x follow-up window of the analysis plan."""
    from review.project import open_project
    from review.project.pool import pool_project

    with open_project(directory) as project:
        _say(pool_project(project, out_dir=out_dir))


# --- PRISMA and demo -----------------------------------------------------------------------


@cli.command()
@click.argument("directory", type=PATH)
@click.option("--out-dir", type=PATH, required=True, help="Folder for prisma.csv/.json/.svg/.png.")
@click.option(
    "--provisional",
    is_flag=True,
    help="Review still in progress: count records and reports without a final decision in boxes of "
    "their own (awaiting screening, in conflict, awaiting classification) and mark every file "
    "PROVISIONAL with today's date; writes prisma-provisional.csv/.json/.svg/.png.",
)
def prisma(directory: Path, out_dir: Path, provisional: bool) -> None:
    """Write PRISMA 2020 counts (CSV for the PRISMA2020 package, JSON) and the flow diagram.

    Refuses while any record lacks a final screening decision, unless --provisional.
    """
    from review.project.prisma import write_prisma

    _in_project(directory, write_prisma, out_dir, provisional=provisional)


@cli.command()
@click.argument("out", type=PATH)
def demo(out: Path) -> None:
    """Build the complete offline CRPS/ketamine demo review in OUT."""
    from review.project.demo import build_demo

    click.echo(build_demo(out))


class _NeverRaised(click.UsageError):
    """Stands in for click's NoArgsIsHelpError on click < 8.2 (which prints the help itself)."""


#: click >= 8.2 raises this (a UsageError holding the help text) for a group run without a command.
_NO_ARGS_HELP: type[click.UsageError] = getattr(click.exceptions, "NoArgsIsHelpError", _NeverRaised)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning every ReviewError into one line on stderr."""
    try:
        cli.main(args=argv, prog_name="review", standalone_mode=False)
    except click.exceptions.Abort:
        _say("aborted")
        sys.exit(130)
    except _NO_ARGS_HELP as exc:  # `review` or `review screen` alone: show the help
        click.echo(exc.format_message(), err=True)
        sys.exit(exc.exit_code)
    except click.UsageError as exc:  # a wrong option or path: one line, as for every other error
        where = exc.ctx.command_path if exc.ctx is not None else "review"
        _say(f"error: {' '.join(exc.format_message().split())} (see `{where} --help`)")
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        _say(f"error: {' '.join(exc.format_message().split())}")
        sys.exit(exc.exit_code)
    except ReviewError as exc:
        _say(f"error: {exc}")
        sys.exit(1)
    except BrokenPipeError:  # `review ... | head` closed the pipe: not an error of ours to report
        sys.exit(1)
    except OSError as exc:  # a file or folder named on the command line cannot be read or written
        where = f"{exc.filename}: " if exc.filename else ""
        _say(f"error: {where}{exc.strerror or exc}; check the path and its permissions")
        sys.exit(1)
    except KeyboardInterrupt:
        _say("interrupted: what was stored so far is kept; run the command again to resume")
        sys.exit(130)
