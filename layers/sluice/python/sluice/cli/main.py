"""The sluice command: the client of a running system (login, upload, ls, show, rows,
download, types, infer, mv, rm, task, tasks, result, session, op, import-model, graph, train,
jobs, predict) and the local system with its helpers (local, demo-data, manifests). `sluice
COMMAND --help` says more; every client command takes --json and --api-url (or
SLUICE_API_URL)."""

from __future__ import annotations

import click

from sluice.cli import (
    auth,
    datasets,
    graphs,
    inference,
    model_import,
    sessions,
    system,
    tasks,
    train,
    upload,
)


@click.group(
    name="sluice",
    help=__doc__,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
def app() -> None:
    """The command group; each command is a module of ``sluice.cli``."""


for command in (
    auth.login,
    auth.logout,
    upload.upload,
    datasets.ls,
    datasets.show,
    datasets.rows,
    datasets.download,
    datasets.types,
    inference.infer,
    datasets.mv,
    datasets.rm,
    tasks.task,
    tasks.tasks,
    tasks.result,
    sessions.session,
    sessions.op,
    model_import.import_model,
    graphs.graph,
    train.train,
    graphs.jobs,
    train.predict,
    system.local,
    system.demo_data,
    system.manifests,
):
    app.add_command(command)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``sluice`` command: its exit code (0 done, 1 what the API or
    the file refused, 2 a usage error), also when called from Python."""
    try:
        app.main(args=argv, prog_name="sluice", standalone_mode=True)
    except SystemExit as exit_:
        code = exit_.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return 0
