"""A compact Dagster logger for the terminal: one line per step and per quality check, as the run goes."""

import logging

from dagster import Field, logger
from rich.console import Console

console = Console()
_SHOWN = {"STEP_START", "STEP_SUCCESS", "STEP_FAILURE", "ASSET_CHECK_EVALUATION", "ASSET_MATERIALIZATION"}


class _ProgressHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        event = getattr(record, "dagster_event", None)
        if event is None:
            # Dagster's "Dependencies for step X failed: [...]. Not executing." lists every skipped step
            if record.levelno >= logging.WARNING and not record.getMessage().endswith("Not executing."):
                console.print(f"  [yellow]{record.getMessage()}[/]")
            return
        kind = event.event_type_value
        if kind not in _SHOWN:
            return
        step = event.step_key or ""
        if kind == "STEP_START":
            console.print(f"[bold]▶[/] {step}")
        elif kind == "STEP_SUCCESS":
            console.print(f"[green]✓[/] {step}")
        elif kind == "STEP_FAILURE":
            # only where: the cause, without Dagster's wrapper, and what to do follow in the run's report
            console.print(f"[bold red]✗ {step}[/]")
        elif kind == "ASSET_MATERIALIZATION":
            key = "/".join(event.event_specific_data.materialization.asset_key.path)
            if key.startswith(("raw/submissions", "published/", "marts/", "reports/")):
                console.print(f"  materialised {key}")
        elif kind == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if evaluation.check_name.startswith("ge_") or not evaluation.passed:
                mark = (
                    "[green]✓[/]"
                    if evaluation.passed
                    else ("[bold red]✗[/]" if evaluation.severity.value == "ERROR" else "[yellow]![/]")
                )
                console.print(f"  {mark} check {evaluation.check_name} on {'/'.join(evaluation.asset_key.path)}")


# step events are logged at DEBUG level; the handler picks the few worth a line
@logger(config_schema={"log_level": Field(str, is_required=False, default_value="DEBUG")})
def terminal_progress_logger(init_context):
    log = logging.getLogger("hqd.progress")
    log.setLevel(init_context.logger_config["log_level"])
    log.propagate = False
    if not log.handlers:
        log.addHandler(_ProgressHandler())
    return log
