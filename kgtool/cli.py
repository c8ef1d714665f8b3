"""The ``kgtool`` command line: parse, call one library function, render, map errors to exit codes.

Errors are mapped in one place (:class:`KgtoolGroup`): a :class:`~kgtool.errors.KgtoolError` prints one
line ``kgtool: error: …`` on stderr and exits with its code; anything else is a bug and shows the trace
only with ``--traceback``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

import click

from .errors import ExitCode, KgtoolError, UsageError

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class KgtoolGroup(click.Group):
    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        """As click's, but a usage error is one line, like every other error: "kgtool: error: …" and where
        the help is (click prints the usage, a hint line and the error on three)."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.NoArgsIsHelpError as exc:  # plain `kgtool`: the help, as click shows it
            exc.show()
            sys.exit(exc.exit_code)
        except click.UsageError as exc:
            where = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx is not None else ""
            click.echo(f"kgtool: error: {exc.format_message()}{where}", err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            click.echo(f"kgtool: error: {exc.format_message()}", err=True)
            sys.exit(exc.exit_code)
        except click.exceptions.Abort:
            click.echo("kgtool: interrupted", err=True)
            sys.exit(130)
        sys.exit(result if isinstance(result, int) else 0)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except KgtoolError as exc:
            if ctx.obj and ctx.obj.get("traceback"):
                import traceback

                traceback.print_exc()  # and then the one line and the exit code, as without --traceback
            click.echo(f"kgtool: error: {exc}", err=True)
            ctx.exit(int(exc.exit_code))
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except BrokenPipeError:
            sys.stderr.close()
            ctx.exit(int(ExitCode.OK))
        except OSError as exc:
            import errno

            if exc.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO):
                _internal_error(ctx, exc)
            click.echo(f"kgtool: error: cannot write the output: {exc.strerror}", err=True)
            ctx.exit(int(ExitCode.PROBLEMS))
        except KeyboardInterrupt:
            click.echo("kgtool: interrupted", err=True)
            ctx.exit(130)
        except Exception as exc:
            _internal_error(ctx, exc)


def _internal_error(ctx: click.Context, exc: Exception) -> None:
    """A bug, not a user error: one line asking for a report (the traceback with --traceback)."""
    if ctx.obj and ctx.obj.get("traceback"):
        import traceback

        traceback.print_exception(exc)
        click.echo(f"kgtool: internal error: {type(exc).__name__}: {exc} (please report it)", err=True)
        ctx.exit(int(ExitCode.UNUSABLE))
    click.echo(f"kgtool: internal error: {type(exc).__name__}: {exc} (rerun with --traceback "
               "and report it)", err=True)
    ctx.exit(int(ExitCode.UNUSABLE))


@click.group(cls=KgtoolGroup, context_settings=CONTEXT)
@click.option("--project", "project_dir", type=click.Path(file_okay=False), envvar="KGTOOL_PROJECT",
              help="Project folder (with ontology/, data/, queries/). Default: $KGTOOL_PROJECT, else the "
                   "working folder or the nearest one above it, else the checkout kgtool was installed from.")
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
    # rdflib logs a traceback per ill-typed literal and warns about odd IRIs: kgtool says what matters
    # itself, in words (validate, the gate). Not on the query path, which never loads rdflib on the
    # default engine and should not pay for `logging` (the rdflib engine silences it where it starts).
    if not traceback and ctx.invoked_subcommand not in ("query", "sparql", "queries"):
        from .store import quiet_rdflib_logs

        quiet_rdflib_logs()


def _project(ctx: click.Context):
    from .project import find_project

    return find_project(ctx.obj.get("project_dir"))


_ENGINE_OPTION = click.option(
    "--engine", type=click.Choice(["oxigraph", "rdflib"]), envvar="KGTOOL_ENGINE",
    help="Query engine: oxigraph (default: the cached store) or rdflib (in memory). Env: KGTOOL_ENGINE.")

_NO_CACHE_OPTION = click.option(
    "--no-cache", is_flag=True,
    help="Evaluate the query even if the same one was answered on the same data before (kgtool cache info: "
         "query answers), and keep nothing.")


class Seconds(click.FloatRange):
    """A time limit: a finite number in range (click's FloatRange lets "nan" through, and every comparison
    with nan is false, so the limit would silently be off)."""

    name = "seconds"

    def convert(self, value, param, ctx):
        import math

        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number of seconds", param, ctx)
        return number


#: At most a week: time limits beyond it are a typo, and the event loop's timers overflow on larger ones.
MAX_SECONDS = 7 * 24 * 3600.0


def _limit_options(command):
    """--timeout and --max-rows, shared by every command that runs a query (kgtool.limits)."""
    from .limits import DEFAULT_MAX_ROWS

    command = click.option("--max-rows", type=click.IntRange(min=0), default=DEFAULT_MAX_ROWS,
                           show_default=True, help="Refuse a result with more rows (0: no cap).")(command)
    return _timeout_option("Stop the query after this long (0: no limit).")(command)


def _timeout_option(help: str):
    from .limits import DEFAULT_TIMEOUT

    return click.option("--timeout", type=Seconds(min=0, max=MAX_SECONDS), default=DEFAULT_TIMEOUT, show_default=True,
                        metavar="SECONDS", help=help)


def _stopped(error: BaseException) -> int:
    """Said by the query watchdog (kgtool.limits.run_watched) just before it ends the process."""
    if isinstance(error, KgtoolError):
        click.echo(f"kgtool: error: {error}", err=True)
        return int(error.exit_code)
    click.echo("kgtool: interrupted", err=True)
    return 130


def _emit(text: str | Iterable[bytes], output: str | None) -> None:
    """Print, or write atomically to a file (no half-written output on failure); ``text`` may come as
    UTF-8 pieces (a large export)."""
    if output and output != "-":
        from .atomic import write_output

        write_output(Path(output), text)
    elif isinstance(text, str):
        click.echo(text, nl=False)
    else:
        for piece in text:  # bytes: click writes them to the binary stream under stdout
            click.echo(piece, nl=False)


@cli.command("queries", context_settings=CONTEXT)
@click.option("-f", "--format", "fmt", type=click.Choice(["table", "json", "ttl"]), default="table", show_default=True)
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


#: The formats of query and sparql (kgtool.render): xml is SPARQL XML results, or RDF/XML for a graph.
_RESULT_FORMATS = click.Choice(["table", "csv", "tsv", "json", "xml", "md", "ttl", "nt", "jsonld"])
_RESULT_FORMAT_HELP = ("Result format. Default: a table; Turtle for CONSTRUCT and DESCRIBE (ttl, nt, jsonld, "
                       "xml). xml: SPARQL XML results, or RDF/XML for a graph.")


@cli.command("query", context_settings=CONTEXT)
@click.argument("name")
@click.option("-p", "--param", "params", nargs=2, multiple=True, metavar="NAME VALUE",
              help="A parameter value; repeat for several. Values are checked against the declared type.")
@click.option("-f", "--format", "fmt", type=_RESULT_FORMATS, help=_RESULT_FORMAT_HELP)
@click.option("--no-inference", is_flag=True, help="Query the asserted triples only, without OWL RL inferences.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to FILE instead of stdout.")
@click.option("--endpoint", metavar="URL", help="Run it on this SPARQL 1.1 endpoint instead of locally.")
@_ENGINE_OPTION
@_NO_CACHE_OPTION
@_limit_options
@click.pass_context
def query_cmd(ctx: click.Context, name: str, params: tuple[tuple[str, str], ...], fmt: str | None,
              no_inference: bool, output: str | None, endpoint: str | None, engine: str | None,
              no_cache: bool, timeout: float, max_rows: int) -> None:
    """Run the canned query NAME.

    \b
    Examples:
      kgtool query ci-partners
      kgtool query events -p from 2016 -p to 2022 --format csv
      kgtool query actor-activity -p actor organization:embassy-of-kazakhstan-in-china
      kgtool query ci-partners --endpoint http://localhost:7878/query
    """
    from .limits import run_watched
    from .render import render
    from .run import run_canned

    values: dict[str, str] = {}
    for key, value in params:
        if key in values:
            raise UsageError(f"parameter {key!r} given twice")
        values[key] = value
    if endpoint and no_inference:
        raise UsageError("--no-inference does not apply to --endpoint", hint="push with --no-inference")
    if endpoint and engine and ctx.get_parameter_source("engine") == click.core.ParameterSource.COMMANDLINE:
        raise UsageError("--engine does not apply to --endpoint: the endpoint's own engine answers")
    if endpoint:
        from .remote import run_remote  # only here: it imports the HTTP stack
    else:
        from .run import prepare_store  # the cache is built outside the query's time and memory limits

        prepare_store(_project(ctx), not no_inference, engine)
    runner, how = ((run_remote, {"endpoint": endpoint}) if endpoint
                   else (run_canned, {"inference": not no_inference, "engine": engine, "cached": not no_cache}))
    _query, result = run_watched(runner, _project(ctx), name, values, on_stop=_stopped, timeout=timeout,
                                 max_rows=max_rows, **how)
    _emit(render(result, fmt), output)


@cli.command("sparql", context_settings=CONTEXT)
@click.argument("source", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("-f", "--format", "fmt", type=_RESULT_FORMATS, help=_RESULT_FORMAT_HELP)
@click.option("--no-inference", is_flag=True, help="Query the asserted triples only.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to FILE instead of stdout.")
@_ENGINE_OPTION
@_NO_CACHE_OPTION
@_limit_options
@click.pass_context
def sparql_cmd(ctx: click.Context, source: str, fmt: str | None, no_inference: bool, output: str | None,
               engine: str | None, no_cache: bool, timeout: float, max_rows: int) -> None:
    """Run an ad-hoc SELECT, ASK, CONSTRUCT or DESCRIBE query from FILE (or - for stdin).

    The project's prefixes (kzcn:, place:, organization: …) are predeclared. SERVICE, FROM, LOAD and
    updates are refused.

    \b
    Example:
      echo 'SELECT ?ci WHERE { ?ci a kzcn:ConfuciusInstitute }' | kgtool sparql -
    """
    from .limits import run_watched
    from .render import render
    from .run import run_sparql

    text = _read_query_source(source)
    from .run import prepare_store  # the cache is built outside the query's time and memory limits

    prepare_store(_project(ctx), not no_inference, engine)
    result = run_watched(run_sparql, _project(ctx), text, origin=source, inference=not no_inference,
                         engine=engine, cached=not no_cache, on_stop=_stopped, timeout=timeout, max_rows=max_rows)
    _emit(render(result, fmt), output)


def _read_query_source(source: str) -> str:
    from .errors import InputError

    if source == "-":
        data = sys.stdin.buffer.read()
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"-: not UTF-8 text (byte {exc.start})") from None
    path = Path(source)
    if not path.is_file():
        raise InputError(f"{source}: no such query file")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{source}: not UTF-8 text (byte {exc.start})") from None


@cli.command("export", context_settings=CONTEXT)
@click.option("-f", "--format", "fmt", default="ttl", show_default=True,
              type=click.Choice(["ttl", "nt", "jsonld", "trig", "nq", "xml"]))
@click.option("--inferred", is_flag=True,
              help="Include the OWL RL inferences (TriG and N-Quads always have them, in a graph apart).")
@click.option("--data-only", is_flag=True, help="Leave out the ontology (in TriG and N-Quads: its named graph).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to FILE (atomically).")
@click.pass_context
def export_cmd(ctx: click.Context, fmt: str, inferred: bool, data_only: bool, output: str | None) -> None:
    """Export the graph, deterministically: the same input gives the same bytes.

    \b
    Examples:
      kgtool export --format ttl -o kzcn.ttl
      kgtool export --format trig -o kzcn.trig
      kgtool export --format nq --data-only -o kzcn.nq
    """
    from .exporting import export_stream

    _emit(export_stream(_project(ctx), fmt, inferred=inferred, data_only=data_only), output)


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
        from .fastvalidate import check_project

        report = check_project(project)
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
@click.option("-f", "--format", "fmt", default="text", show_default=True,
              type=click.Choice(["text", "json", "ttl"]),
              help="ttl: the dataset described in VoID (triples, entities per class, properties, links).")
@click.pass_context
def stats_cmd(ctx: click.Context, fmt: str) -> None:
    """Triples, entities per class, events per year and facts per source.

    \b
    Examples:
      kgtool stats
      kgtool stats --format ttl > void.ttl
    """
    if fmt == "ttl":
        from .void import render_void

        click.echo(render_void(_project(ctx)), nl=False)
        return
    from .stats import compute_stats, render_stats_json, render_stats_text

    stats = compute_stats(_project(ctx))
    click.echo((render_stats_json if fmt == "json" else render_stats_text)(stats), nl=False)


PICTURE_SUFFIXES = {".svg": "svg", ".png": "png", ".html": "html", ".htm": "html", ".dot": "dot",
                    ".gv": "dot", ".graphml": "graphml"}


def _picture_format(fmt: str | None, output: str, choices: tuple[str, ...]) -> str:
    """The --format given, else the one the output file's name says."""
    if fmt:
        return fmt
    guessed = PICTURE_SUFFIXES.get(Path(output).suffix.lower(), "svg" if output == "-" else None)
    if guessed not in choices:
        raise UsageError(f"cannot tell the format from {output!r}",
                         hint=f"add --format ({', '.join(choices)})")
    return guessed


def _write_picture(payload: str | bytes, output: str) -> None:
    if output == "-":
        if isinstance(payload, bytes):
            raise UsageError("PNG is not written to the terminal", hint="give -o FILE.png")
        click.echo(payload, nl=False)
        return
    from .atomic import write_output

    write_output(Path(output), payload)


@cli.command("timeline", context_settings=CONTEXT)
@click.option("--from", "start", type=int, metavar="YEAR",
              help="First year shown (default: the earliest item).")
@click.option("--to", "end", type=int, metavar="YEAR", help="Last year shown (default: the latest item).")
@click.option("--type", "kind", metavar="TYPE",
              help="Only this kind (and its subkinds): agreement, memorandum, concert, 'culture days', …")
@click.option("-f", "--format", "fmt", type=click.Choice(["svg", "png", "html"]),
              help="Default: from the file name (.svg, .png, .html).")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, allow_dash=True),
              help="Write to FILE (atomically); - prints SVG or HTML.")
@click.pass_context
def timeline_cmd(ctx: click.Context, start: int | None, end: int | None, kind: str | None, fmt: str | None,
                 output: str) -> None:
    """Draw the events and agreements on a time axis, one lane per kind, with the Belt and Road launch
    and the anniversaries of diplomatic relations marked. PNG needs kgtool[viz].

    \b
    Examples:
      kgtool timeline -o timeline.svg
      kgtool timeline --from 2013 --to 2023 --type concert -o concerts.png
      kgtool timeline -o timeline.html
    """
    from .timeline import FORMATS, render_timeline

    picture_format = _picture_format(fmt, output, FORMATS)
    _write_picture(render_timeline(_project(ctx), picture_format, start, end, kind), output)


@cli.command("graph", context_settings=CONTEXT)
@click.option("--focus", metavar="IRI",
              help="Draw what is linked to this entity, e.g. place:almaty. "
                   "Default: the Confucius Institutes.")
@click.option("--depth", type=click.IntRange(min=0), default=1, show_default=True,
              help="Steps from the focus, following links both ways.")
@click.option("--max-nodes", type=click.IntRange(min=1), default=150, show_default=True,
              help="Keep at most this many nodes, the nearest first.")
@click.option("-f", "--format", "fmt", type=click.Choice(["svg", "png", "dot", "graphml"]),
              help="Default: from the file name (.svg, .png, .dot, .graphml).")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, allow_dash=True),
              help="Write to FILE (atomically); - prints SVG, DOT or GraphML.")
@click.pass_context
def graph_cmd(ctx: click.Context, focus: str | None, depth: int, max_nodes: int, fmt: str | None,
              output: str) -> None:
    """Draw the network of actors, agreements, events and partnerships, labelled and coloured by kind.
    PNG and GraphML need kgtool[viz].

    \b
    Examples:
      kgtool graph -o confucius-institutes.svg
      kgtool graph --focus place:almaty --depth 1 -o almaty.png
      kgtool graph --focus organization:confucius-institute-at-enu --depth 2 -o enu.graphml
    """
    from .network import FORMATS, build_network, render_network

    picture_format = _picture_format(fmt, output, FORMATS)
    network = build_network(_project(ctx), focus=focus, depth=depth, max_nodes=max_nodes)
    if network.note:
        click.echo(f"kgtool: note: {network.note}", err=True)
    _write_picture(render_network(network, picture_format), output)


@cli.command("docs", context_settings=CONTEXT)
@click.option("-o", "--output", "folder", required=True, type=click.Path(file_okay=False),
              help="Folder to write index.html, ontology.html, queries.html and void.ttl into.")
@click.pass_context
def docs_cmd(ctx: click.Context, folder: str) -> None:
    """Write HTML documentation: the ontology with its shapes and examples, and every canned query with
    its result on the bundled data. Exit 1 when a query fails.

    \b
    Example:
      kgtool docs -o site/
    """
    from .docs import build_docs, write_docs

    docs = build_docs(_project(ctx))
    written = write_docs(docs, Path(folder))
    for problem in docs.problems:
        click.echo(f"kgtool: error: {problem}", err=True)
    click.echo(f"kgtool: wrote {len(written)} files to {folder} (open index.html)", err=True)
    ctx.exit(int(ExitCode.PROBLEMS if docs.problems else ExitCode.OK))


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


@cli.command("serve", context_settings=CONTEXT)
@click.option("--host", help="Address to listen on. Default 127.0.0.1 (this machine only); naming any other "
                             "address exposes the endpoint to the network.")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True)
@click.option("--timeout", type=Seconds(min=0.1, max=MAX_SECONDS), default=10.0, show_default=True, metavar="SECONDS",
              help="Time limit per query.")
@click.option("--max-rows", type=click.IntRange(min=1), default=10_000, show_default=True,
              help="Refuse results with more rows.")
@click.option("--max-concurrent", type=click.IntRange(min=1), default=4, show_default=True,
              help="Queries at once; more are answered 503.")
@click.option("--result-cache", type=click.IntRange(min=0, max=1 << 20), default=128, show_default=True,
              metavar="MB", help="Keep answers for identical requests in memory, up to this many megabytes, "
                                 "besides the query answers on disk that kgtool query keeps too (0: neither).")
@click.option("--warm", is_flag=True, help="At start, compute in the background the answers the query pages "
              "show without parameters, and the timeline, so the first visitors get them from the kept answers.")
@click.option("--reload-every", type=Seconds(min=0, max=MAX_SECONDS), default=2.0, show_default=True,
              metavar="SECONDS", help="Check this often whether the ontology, the data or the queries changed, "
              "and serve the new data once it is loaded (0: serve the data of the start until stopped).")
@click.option("--no-inference", is_flag=True, help="Serve the asserted triples only.")
@_ENGINE_OPTION
@click.pass_context
def serve_cmd(ctx: click.Context, host: str | None, port: int, timeout: float, max_rows: int,
              max_concurrent: int, result_cache: int, warm: bool, reload_every: float, no_inference: bool,
              engine: str | None) -> None:
    """Serve a read-only SPARQL endpoint (/sparql) and a web UI (/) over the graph, until Ctrl-C.

    \b
    Examples:
      kgtool serve
      kgtool serve --port 8080 --timeout 5
      kgtool cache build && kgtool serve --warm
      curl -H 'Accept: text/csv' 'http://127.0.0.1:8765/sparql?query=ASK%7B%3Fs%20%3Fp%20%3Fo%7D'
    """
    import logging

    from .server import ServerConfig, serve

    logging.basicConfig(level=logging.INFO, format="kgtool: %(message)s")
    config = ServerConfig(host=host or "127.0.0.1", port=port, allow_remote=host is not None, timeout=timeout,
                          max_rows=max_rows, max_concurrent=max_concurrent, inference=not no_inference,
                          engine=engine, result_cache_bytes=result_cache << 20, warm=warm,
                          reload_every=reload_every)
    serve(_project(ctx), config, announce=lambda text: click.echo(f"kgtool: {text}", err=True))


@cli.command("push", context_settings=CONTEXT)
@click.option("--endpoint", required=True, metavar="URL",
              help="Graph Store Protocol URL, e.g. http://localhost:7878/store (Oxigraph) or "
                   "http://localhost:3030/ds/data (Fuseki).")
@click.option("--graph", metavar="IRI", help="Write this named graph (default: the default graph).")
@click.option("--append", is_flag=True, help="Add to the graph (POST) instead of replacing it (PUT). Not "
              "idempotent: the ontology's blank nodes (property chains) are added again each time.")
@click.option("--no-inference", is_flag=True, help="Push the asserted triples only, without inferences.")
@click.option("-f", "--format", "fmt", type=click.Choice(["ttl", "nt"]), default="ttl", show_default=True,
              help="Upload as Turtle (every store reads it) or N-Triples.")
@click.option("--timeout", type=Seconds(min=0, max=MAX_SECONDS), default=120.0, show_default=True, metavar="SECONDS",
              help="Give up when the store stays silent this long (0: wait).")
@click.pass_context
def push_cmd(ctx: click.Context, endpoint: str, graph: str | None, append: bool, no_inference: bool, fmt: str,
             timeout: float) -> None:
    """Upload ontology, data and inferences to a triple store (SPARQL 1.1 Graph Store Protocol).

    Then `kgtool query NAME --endpoint QUERY-URL` runs the canned queries there. Credentials, when the
    store needs them, come from $KGTOOL_ENDPOINT_AUTH ("user:password").

    \b
    Example:
      kgtool push --endpoint http://localhost:7878/store
      kgtool query ci-partners --endpoint http://localhost:7878/query
    """
    from .remote import push_project

    report = push_project(_project(ctx), endpoint, graph=graph, inference=not no_inference, fmt=fmt,
                          append=append, timeout=timeout)
    click.echo(report.summary(), nl=False)


@cli.group("cache", context_settings=CONTEXT)
def cache_group() -> None:
    """Show or clear the cache of store snapshots, closures and indexes (outside the repository).

    Every entry is rebuilt from ontology/, data/ and queries/ when needed; after each build only the
    three most recently used of its kind are kept, besides those a running kgtool holds.

    \b
    Examples:
      kgtool cache build --gate-index
      kgtool cache info
      kgtool cache clear --dry-run
    """


@cache_group.command("info", context_settings=CONTEXT)
@click.option("-f", "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json: every entry, with its size, last use and whether a process holds it.")
@click.option("-v", "--verbose", is_flag=True, help="List every entry, not just the totals by kind.")
def cache_info_cmd(fmt: str, verbose: bool) -> None:
    """Where the cache is, and what it holds by kind: entries, size, how many in use."""
    from .cache_admin import entries, render_info
    from .closure import cache_dir

    click.echo(render_info(entries(), cache_dir(), fmt, verbose), nl=False)


@cache_group.command("build", context_settings=CONTEXT)
@click.option("--gate-index", is_flag=True, help="Build the contribution gate's index too (what kgtool validate "
              "FILE and kgtool add use).")
@click.option("--answers", is_flag=True, help="Compute and keep the answers of the canned queries that run "
              "without parameters too (what kgtool query NAME and kgtool serve then read).")
@_timeout_option("With --answers: stop each query after this long (0: no limit).")
@click.pass_context
def cache_build_cmd(ctx: click.Context, gate_index: bool, answers: bool, timeout: float) -> None:
    """Build the store snapshot (ontology, data and their OWL RL inferences) now, not at the first query.

    For a deploy step before `kgtool serve`, or after pulling new data. Says what it built, in how long,
    or that it was already built. A query whose answer could not be had (too slow) is named, and the
    command still succeeds: that query is evaluated when asked, as without --answers.
    """
    from .cache_admin import build, render_built

    click.echo(render_built(build(_project(ctx), gate_index=gate_index, answers=answers, timeout=timeout or None)),
               nl=False)


@cache_group.command("clear", context_settings=CONTEXT)
@click.option("-n", "--dry-run", is_flag=True, help="Say what would be removed, and remove nothing.")
def cache_clear_cmd(dry_run: bool) -> None:
    """Remove every entry that no running kgtool holds (those are kept, and named)."""
    from .cache_admin import clear, render_cleared

    removed, kept = clear(dry_run=dry_run)
    click.echo(render_cleared(removed, kept, dry_run), nl=False)


def main() -> None:
    cli(prog_name="kgtool")
