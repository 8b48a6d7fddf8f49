"""The Dagster definitions: one op per worker, one job running them in parallel, a schedule.

When the plan has an ``events`` section, also the event-mode job on its own short schedule.
"""

from dagster import (
    Backoff,
    DefaultScheduleStatus,
    Definitions,
    Failure,
    In,
    JobDefinition,
    Nothing,
    OpDefinition,
    OpExecutionContext,
    RetryPolicy,
    ScheduleDefinition,
    job,
    multiprocess_executor,
    op,
)

from welkin_dagster.config import Plan, Worker, load_plan
from welkin_dagster.meltano_run import WorkerFailed, run_worker, upgrade_system_database

JOB_NAME = "welkin_sync"
EVENTS_JOB_NAME = "welkin_events"


def setup_op(plan: Plan) -> OpDefinition:
    """Migrate the shared state backend once, before any worker starts."""

    @op(
        name="prepare_state_backend",
        description="meltano upgrade database: the shared system database, before the workers",
        retry_policy=RetryPolicy(max_retries=plan.retries, delay=plan.retry_delay_seconds),
    )
    def prepare(context: OpExecutionContext) -> None:
        try:
            upgrade_system_database(plan, context.log)
        except WorkerFailed as exc:
            raise Failure(str(exc), allow_retries=True) from None

    return prepare


def worker_op(plan: Plan, worker: Worker) -> OpDefinition:
    """The op of one worker, retried on its own when its `meltano run` fails."""

    @op(
        name=worker.op_name,
        description=f"meltano run {worker.extractor or plan.extractor} {plan.loader}: "
        f"{worker.name}",
        retry_policy=RetryPolicy(
            max_retries=plan.retries, delay=plan.retry_delay_seconds, backoff=Backoff.LINEAR
        ),
        tags={"welkin/instance": worker.instance, "welkin/group": worker.group},
        ins={"ready": In(Nothing)},
    )
    def sync(context: OpExecutionContext) -> None:
        try:
            seconds = run_worker(plan, worker, context.log)
        except WorkerFailed as exc:
            # A Failure is retried by the policy; the other workers go on.
            raise Failure(str(exc), allow_retries=True) from None
        context.log.info(f"{worker.name}: {seconds:.1f} s")

    return sync


def build_job(
    plan: Plan,
    workers: tuple[Worker, ...] | None = None,
    name: str = JOB_NAME,
    description: str = "Sync every stream group of every Welkin instance, in parallel.",
) -> JobDefinition:
    """Every worker of ``plan`` as independent ops, at most ``max_concurrent`` at once."""
    prepare = setup_op(plan)
    ops = [worker_op(plan, worker) for worker in (plan.workers if workers is None else workers)]

    @job(
        name=name,
        description=description,
        executor_def=multiprocess_executor.configured(
            {
                "max_concurrent": plan.max_concurrent,
                # Steps fork from a server that imported Dagster and this project once,
                # instead of each starting a fresh interpreter.
                "start_method": {"forkserver": {"preload_modules": [__name__]}},
            }
        ),
    )
    def welkin_job() -> None:
        ready = prepare()
        for sync in ops:
            sync(ready)

    return welkin_job


def _schedule(name: str, cron: str, running: bool, target: JobDefinition) -> ScheduleDefinition:
    status = DefaultScheduleStatus.RUNNING if running else DefaultScheduleStatus.STOPPED
    return ScheduleDefinition(
        name=f"{name}_schedule", cron_schedule=cron, job=target, default_status=status
    )


def build_definitions(plan: Plan) -> Definitions:
    """The sync job and its schedule; the event-mode job and its schedule when planned."""
    sync_job = build_job(plan)
    jobs = [sync_job]
    schedules = [_schedule(JOB_NAME, plan.schedule, plan.schedule_running, sync_job)]
    if plan.event_workers:
        events_job = build_job(
            plan,
            plan.event_workers,
            EVENTS_JOB_NAME,
            "Ping and pull: each instance's event-mode run, only what the webhooks named.",
        )
        jobs.append(events_job)
        schedules.append(
            _schedule(EVENTS_JOB_NAME, plan.event_schedule, plan.event_schedule_running, events_job)
        )
    return Definitions(jobs=jobs, schedules=schedules)


defs = build_definitions(load_plan())
