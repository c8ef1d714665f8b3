"""The ``kgtool`` command line: parse, call one library function, render, map errors to exit codes.

Errors are mapped in one place (:class:`KgtoolGroup`): a :class:`~kgtool.errors.KgtoolError` prints one
line ``kgtool: error: …`` on stderr and exits with its code; anything else is a bug and shows the trace
only with ``--traceback``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .errors import ExitCode, KgtoolError, UsageError

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class KgtoolGroup(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except KgtoolError as exc:
            if ctx.obj and ctx.obj.get("traceback"):
                raise
            click.echo(f"kgtool: error: {exc}", err=True)
            ctx.exit(int(exc.exit_code))
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except BrokenPipeError:
            sys.stderr.close()
            ctx.exit(int(ExitCode.OK))
        except KeyboardInterrupt:
            click.echo("kgtool: interrupted", err=True)
            ctx.exit(130)
        except Exception as exc:
            if ctx.obj and ctx.obj.get("traceback"):
                raise
            click.echo(f"kgtool: internal error: {type(exc).__name__}: {exc} (rerun with --traceback "
                       "and report it)", err=True)
            ctx.exit(int(ExitCode.UNUSABLE))


@click.group(cls=KgtoolGroup, context_settings=CONTEXT)
@click.option("--project", "project_dir", type=click.Path(file_okay=False), envvar="KGTOOL_PROJECT",
              help="Project folder (with ontology/, data/, queries/). Default: found from the working folder.")
@click.option("--traceback", is_flag=True, help="Show the Python traceback on errors (for bug reports).")
@click.version_option(package_name="kgtool")
@click.pass_context
def cli(ctx: click.Context, project_dir: str | None, traceback: bool) -> None:
    """Query, export, validate and extend the Kazakhstan–China cultural relations knowledge graph.

    \b
    Example:
      kgtool query ci-partners
    """
    ctx.obj = {"project_dir": project_dir, "traceback": traceback}


def _project(ctx: click.Context):
    from .project import find_project

    return find_project(ctx.obj.get("project_dir"))


def _emit(text: str, output: str | None) -> None:
    """Print, or write atomically to a file (no half-written output on failure)."""
    if output and output != "-":
        from .export import write_atomically

        write_atomically(Path(output), text)
    else:
        click.echo(text, nl=False)


@cli.command("queries", context_settings=CONTEXT)
@click.option("--format", "fmt", type=click.Choice(["table", "json", "ttl"]), default="table", show_default=True)
@click.pass_context
def queries_cmd(ctx: click.Context, fmt: str) -> None:
    """List the canned queries: name, summary and parameters.

    \b
    Example:
      kgtool queries
      kgtool queries --format json
    """
    from .catalogue_render import render_catalogue
    from .run import load_catalogue

    click.echo(render_catalogue(load_catalogue(_project(ctx)), fmt), nl=False)


@cli.command("query", context_settings=CONTEXT)
@click.argument("name")
@click.option("-p", "--param", "params", nargs=2, multiple=True, metavar="NAME VALUE",
              help="A parameter value; repeat for several. Values are checked against the declared type.")
@click.option("-f", "--format", "fmt", default="table", show_default=True,
              type=click.Choice(["table", "csv", "tsv", "json", "md", "ttl", "nt", "jsonld"]),
              help="Result format (ttl/nt/jsonld for CONSTRUCT and DESCRIBE).")
@click.option("--no-inference", is_flag=True, help="Query the asserted triples only, without OWL RL inferences.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to FILE instead of stdout.")
@click.pass_context
def query_cmd(ctx: click.Context, name: str, params: tuple[tuple[str, str], ...], fmt: str,
              no_inference: bool, output: str | None) -> None:
    """Run the canned query NAME.

    \b
    Examples:
      kgtool query ci-partners
      kgtool query events-by-year -p from 2016 -p to 2022 --format csv
      kgtool query actor-activity -p actor organization:embassy-of-kazakhstan-in-china
    """
    from .render import render
    from .run import run_canned

    values: dict[str, str] = {}
    for key, value in params:
        if key in values:
            raise UsageError(f"parameter {key!r} given twice")
        values[key] = value
    _query, result = run_canned(_project(ctx), name, values, inference=not no_inference)
    _emit(render(result, fmt), output)


@cli.command("sparql", context_settings=CONTEXT)
@click.argument("source", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("-f", "--format", "fmt", default="table", show_default=True,
              type=click.Choice(["table", "csv", "tsv", "json", "md", "ttl", "nt", "jsonld"]))
@click.option("--no-inference", is_flag=True, help="Query the asserted triples only.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to FILE instead of stdout.")
@click.pass_context
def sparql_cmd(ctx: click.Context, source: str, fmt: str, no_inference: bool, output: str | None) -> None:
    """Run an ad-hoc SELECT, ASK, CONSTRUCT or DESCRIBE query from FILE (or - for stdin).

    The project's prefixes (kzcn:, place:, organization: …) are predeclared. SERVICE, FROM, LOAD and
    updates are refused.

    \b
    Example:
      echo 'SELECT ?ci WHERE { ?ci a kzcn:ConfuciusInstitute }' | kgtool sparql -
    """
    from .render import render
    from .run import run_sparql

    text = _read_query_source(source)
    result = run_sparql(_project(ctx), text, origin=source, inference=not no_inference)
    _emit(render(result, fmt), output)


def _read_query_source(source: str) -> str:
    from .errors import InputError

    if source == "-":
        return sys.stdin.read()
    path = Path(source)
    if not path.is_file():
        raise InputError(f"{source}: no such query file")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{source}: not UTF-8 text (byte {exc.start})") from None


@cli.command("export", context_settings=CONTEXT)
@click.option("-f", "--format", "fmt", default="ttl", show_default=True,
              type=click.Choice(["ttl", "nt", "jsonld", "trig", "xml"]))
@click.option("--inferred", is_flag=True, help="Include the OWL RL inferences (TriG always has them apart).")
@click.option("--data-only", is_flag=True, help="Leave out the ontology.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to FILE (atomically).")
@click.pass_context
def export_cmd(ctx: click.Context, fmt: str, inferred: bool, data_only: bool, output: str | None) -> None:
    """Export the graph, deterministically: the same input gives the same bytes.

    \b
    Examples:
      kgtool export --format ttl -o kzcn.ttl
      kgtool export --format trig --inferred -o kzcn.trig
    """
    from .exporting import export_graph

    _emit(export_graph(_project(ctx), fmt, inferred=inferred, data_only=data_only), output)


@cli.command("validate", context_settings=CONTEXT)
@click.argument("files", nargs=-1, type=click.Path(dir_okay=True, allow_dash=False))
@click.option("-f", "--format", "fmt", default="text", show_default=True, type=click.Choice(["text", "json", "ttl"]))
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the report to FILE.")
@click.pass_context
def validate_cmd(ctx: click.Context, files: tuple[str, ...], fmt: str, output: str | None) -> None:
    """Validate the bundled data, or contribution FILEs in the context of the bundled data.

    Exit 0 when it conforms, 1 when it does not, 2 when the input cannot be used.

    \b
    Examples:
      kgtool validate
      kgtool validate new-events.ttl --format json
    """
    from .report import RENDERERS

    project = _project(ctx)
    if files:
        from .contribution import check_contribution

        report = check_contribution(project, [Path(f) for f in files])
    else:
        from .validate import validate_project

        report = validate_project(project)
    _emit(RENDERERS[fmt](report), output)
    ctx.exit(int(ExitCode.OK if report.conforms else ExitCode.PROBLEMS))


@cli.command("add", context_settings=CONTEXT)
@click.argument("file", type=click.Path(dir_okay=True))
@click.option("--dry-run", is_flag=True, help="Show what would be added, as Markdown, without writing.")
@click.option("-f", "--format", "fmt", default="text", show_default=True, type=click.Choice(["text", "json", "ttl"]),
              help="Format of the report when the contribution is refused.")
@click.pass_context
def add_cmd(ctx: click.Context, file: str, dry_run: bool, fmt: str) -> None:
    """Merge a conforming contribution FILE into data/, atomically; refuse anything else unchanged.

    \b
    Examples:
      kgtool add new-events.ttl --dry-run
      kgtool add new-events.ttl
    """
    from .merge import add_contribution
    from .report import RENDERERS

    outcome = add_contribution(_project(ctx), Path(file), dry_run=dry_run)
    if not outcome.report.conforms:
        click.echo(RENDERERS[fmt](outcome.report), nl=False)
        ctx.exit(int(ExitCode.PROBLEMS))
    click.echo(outcome.summary, nl=False)


@cli.command("reason", context_settings=CONTEXT)
@click.option("-f", "--format", "fmt", default="ttl", show_default=True, type=click.Choice(["ttl", "nt", "jsonld"]))
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to FILE (atomically).")
@click.pass_context
def reason_cmd(ctx: click.Context, fmt: str, output: str | None) -> None:
    """Print the OWL RL inferences only, apart from the asserted data (data/ is never changed).

    \b
    Example:
      kgtool reason -o inferred.ttl
    """
    from .exporting import export_inferences

    _emit(export_inferences(_project(ctx), fmt), output)


@cli.command("stats", context_settings=CONTEXT)
@click.option("-f", "--format", "fmt", default="text", show_default=True, type=click.Choice(["text", "json"]))
@click.pass_context
def stats_cmd(ctx: click.Context, fmt: str) -> None:
    """Triples, entities per class, events per year and facts per source.

    \b
    Example:
      kgtool stats
    """
    from .stats import compute_stats, render_stats_json, render_stats_text

    stats = compute_stats(_project(ctx))
    click.echo((render_stats_json if fmt == "json" else render_stats_text)(stats), nl=False)


@cli.command("lint", context_settings=CONTEXT)
@click.option("-f", "--format", "fmt", default="text", show_default=True, type=click.Choice(["text", "json", "ttl"]))
@click.pass_context
def lint_cmd(ctx: click.Context, fmt: str) -> None:
    """Check the ontology and the shapes themselves: labels, definitions, shape messages.

    \b
    Example:
      kgtool lint
    """
    from .report import RENDERERS
    from .validate import lint_ontology

    report = lint_ontology(_project(ctx))
    click.echo(RENDERERS[fmt](report), nl=False)
    ctx.exit(int(ExitCode.OK if report.conforms else ExitCode.PROBLEMS))


def main() -> None:
    cli(prog_name="kgtool")
