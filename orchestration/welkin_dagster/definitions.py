"""The Dagster definitions: one op per worker, one job running them in parallel, a schedule."""

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
        description=f"meltano run {plan.extractor} {plan.loader}: {worker.name}",
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


def build_job(plan: Plan) -> JobDefinition:
    """Every worker of ``plan`` as independent ops, at most ``max_concurrent`` at once."""
    prepare = setup_op(plan)
    ops = [worker_op(plan, worker) for worker in plan.workers]

    @job(
        name=JOB_NAME,
        description="Sync every stream group of every Welkin instance, in parallel.",
        executor_def=multiprocess_executor.configured(
            {
                "max_concurrent": plan.max_concurrent,
                # Steps fork from a server that imported Dagster and this project once,
                # instead of each starting a fresh interpreter.
                "start_method": {"forkserver": {"preload_modules": [__name__]}},
            }
        ),
    )
    def welkin_sync() -> None:
        ready = prepare()
        for sync in ops:
            sync(ready)

    return welkin_sync


def build_definitions(plan: Plan) -> Definitions:
    """The job and its schedule."""
    sync_job = build_job(plan)
    schedule = ScheduleDefinition(
        name=f"{JOB_NAME}_schedule",
        cron_schedule=plan.schedule,
        job=sync_job,
        default_status=(
            DefaultScheduleStatus.RUNNING
            if plan.schedule_running
            else DefaultScheduleStatus.STOPPED
        ),
    )
    return Definitions(jobs=[sync_job], schedules=[schedule])


defs = build_definitions(load_plan())
