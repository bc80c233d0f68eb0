"""Every DAG imports, and carries an owner, tags, retries and a failure alert."""

import attrs
import pytest

from grassroots.config import DAGS_DIR

pytestmark = pytest.mark.integration

# A table of fct_indicator_values (the view itself has no tests, so no test task).
ROLLED_UP = "fct_indicator_values_rolled_up"


@pytest.fixture(scope="module")
def dagbag(warehouse):
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_DIR))


def test_every_dag_imports(dagbag):
    assert dagbag.import_errors == {}
    assert "nightly_submissions" in dagbag.dags


def test_every_task_has_owner_retries_and_alert(dagbag):
    for dag in dagbag.dags.values():
        assert dag.tags, dag.dag_id
        for task in dag.tasks:
            assert task.owner and task.owner != "airflow", task.task_id
            assert task.retries >= 1, task.task_id
            assert task.on_failure_callback, task.task_id


def test_nightly_schedule_and_single_active_run(dagbag):
    dag = dagbag.dags["nightly_submissions"]
    assert dag.max_active_runs == 1
    assert dag.catchup is False
    schedule = attrs.asdict(dag.timetable, recurse=False)
    assert schedule["expression"] == "0 1 * * *"
    assert str(schedule["timezone"]) in {"Asia/Ho_Chi_Minh", "Timezone('Asia/Ho_Chi_Minh')"}


def test_the_night_builds_dbt_in_one_task_after_the_load(dagbag):
    """The default mode (build, picked by bench/served.py's figures): one cosmos task runs
    one `dbt build` of the project after the intake; the digests wait for it and run
    whatever its outcome."""
    from grassroots.orchestration import DEFAULT_DBT_EXECUTION_MODE, dbt_execution_mode

    assert dbt_execution_mode() == DEFAULT_DBT_EXECUTION_MODE == "build"
    dag = dagbag.dags["nightly_submissions"]
    (build,) = [t for t in dag.tasks if t.task_id.startswith("dbt_build.")]
    assert build.task_id == "dbt_build.build"
    assert build.base_cmd == ["build"]
    assert build.upstream_task_ids == {"intake_summary"}
    assert build.env["GRASSROOTS_DBT_BUILT_SINCE"].startswith("{{ dag_run.start_date")
    assert not build.vars  # a var that changes nightly would make dbt parse in full
    assert build.cache_dir is not None  # where cosmos keeps the partial parse
    assert "send_digests" in build.downstream_task_ids
    assert dag.get_task("send_digests").trigger_rule == "all_done"

    # Ready at the same time as the checks and the summary, the build is queued first:
    # each task's weight as the scheduler computes it, by the task's own weight rule.
    from types import SimpleNamespace

    from airflow.task.priority_strategy import validate_and_load_priority_weight_strategy

    def weight(task):
        strategy = validate_and_load_priority_weight_strategy(task.weight_rule)
        return strategy.get_weight(SimpleNamespace(task=task))

    for other in ("cross_checks", "quality_summary"):
        assert weight(build) > weight(dag.get_task(other))
    # And after the build the digests go before the site and the Data Docs.
    digests = dag.get_task("send_digests")
    for other in ("report_site", "data_docs"):
        assert weight(digests) > weight(dag.get_task(other))


def test_the_report_site_is_rebuilt_after_the_build_beside_the_digests(dagbag):
    """report_site waits for the build and the checks (the pages show the night's
    findings); the digests do not wait for it (they link the pages the folder holds)."""
    dag = dagbag.dags["nightly_submissions"]
    site = dag.get_task("report_site")
    assert site.upstream_task_ids == {"dbt_build.build", "cross_checks"}
    assert site.downstream_task_ids == {"night_failed"}
    assert site.trigger_rule == "all_success"
    digests = dag.get_task("send_digests")
    assert digests.upstream_task_ids == {"dbt_build.build", "cross_checks", "quality_summary"}
    assert digests.trigger_rule == "all_done"


def test_data_docs_wait_for_the_build_and_run_whatever_its_outcome(dagbag):
    """Beside the build they took CPU from the night's critical path; after it they run
    even on a failed night, whose validation results staff need most."""
    docs = dagbag.dags["nightly_submissions"].get_task("data_docs")
    assert docs.upstream_task_ids == {"dbt_build.build", "cross_checks"}
    assert docs.trigger_rule == "all_done"


def test_intake_batches_are_mapped_tasks_any_worker_can_take(dagbag):
    """Issue 18: one mapped task per batch (side by side on LocalExecutor, spread over
    workers on Celery) instead of a process pool inside one task."""
    from airflow.sdk.definitions.mappedoperator import MappedOperator

    from grassroots.intake import PARALLEL_BATCHES

    dag = dagbag.dags["nightly_submissions"]
    assert "parse_validate_load" not in dag.task_ids
    batch = dag.get_task("load_batch")
    assert isinstance(batch, MappedOperator)
    assert batch.upstream_task_ids == {"plan_batches"}
    assert dag.get_task("plan_batches").upstream_task_ids == {"register"}
    assert batch.max_active_tis_per_dagrun == PARALLEL_BATCHES
    assert batch.retries >= 1  # a retried batch loads only what is still 'received'
    summary = dag.get_task("intake_summary")
    assert summary.upstream_task_ids == {"load_batch"}
    assert summary.trigger_rule == "none_failed"  # an empty night skips load_batch


def test_registry_seeds_are_not_reloaded_every_night(dagbag):
    # Seeds are loaded by setup when they change (runtime.load_reference_seeds).
    build = dagbag.dags["nightly_submissions"].get_task("dbt_build.build")
    assert build.exclude == ["resource_type:seed"]


def test_weekly_full_checks_run_every_dbt_test_unsliced(dagbag):
    dag = dagbag.dags["weekly_full_checks"]
    schedule = attrs.asdict(dag.timetable, recurse=False)
    assert schedule["expression"] == "0 12 * * 0"  # Sunday noon, far from the 01:00 night
    (task,) = dag.tasks
    assert task.base_cmd == ["test"]
    # No built_since: plain `dbt test` reads whole relations.
    assert not task.vars and "GRASSROOTS_DBT_BUILT_SINCE" not in (task.env or {})


def test_nightly_dbt_tasks_leave_unit_tests_to_the_weekly_checks(dagbag):
    # Unit tests read fixed inputs, so they cannot fail on a night's data; the weekly
    # `dbt test` and make test run them.
    nightly = [
        t
        for t in dagbag.dags["nightly_submissions"].tasks
        if t.task_id.startswith("dbt_build.") and hasattr(t, "dbt_cmd_flags")
    ]
    assert nightly
    for task in nightly:  # in watcher mode, the producer only (test below)
        flags = task.dbt_cmd_flags
        assert flags[flags.index("--exclude-resource-type") + 1] == "unit_test", task.task_id
    (weekly,) = dagbag.dags["weekly_full_checks"].tasks
    assert "--exclude-resource-type" not in weekly.dbt_cmd_flags


@pytest.fixture(scope="module")
def watcher_dagbag(warehouse):
    """The DAGs parsed with GRASSROOTS_DBT_EXECUTION_MODE=watcher."""
    from airflow.dag_processing.dagbag import DagBag

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GRASSROOTS_DBT_EXECUTION_MODE", "watcher")
        return DagBag(dag_folder=str(DAGS_DIR))


def test_watcher_mode_builds_once_with_a_sensor_per_model_and_its_tests(watcher_dagbag):
    """watcher: one `dbt build` of the project, seeds left out; each model a sensor task,
    its tests another, deferred to the triggerer while they wait; no detached test task
    (it would watch a status nobody reports, and pass)."""
    dag = watcher_dagbag.dags["nightly_submissions"]
    dbt = {t.task_id: t for t in dag.tasks if t.task_id.startswith("dbt_build.")}
    producer = dbt.pop("dbt_build.dbt_producer_watcher")
    assert producer.base_cmd == ["build"]
    assert producer.exclude == "resource_type:seed"  # cosmos passes it as one string
    assert producer.upstream_task_ids == {"intake_summary"}
    assert producer.env["GRASSROOTS_DBT_BUILT_SINCE"].startswith("{{ dag_run.start_date")
    dbt.pop("dbt_build.dbt_producer_watcher_done")
    assert not [task_id for task_id in dbt if "detached" in task_id]
    models = {task_id.split(".")[1] for task_id in dbt}
    assert ROLLED_UP in models and "int_registry_units" in models
    assert f"dbt_build.{ROLLED_UP}.run" in dbt
    assert f"dbt_build.{ROLLED_UP}.test" in dbt
    for task in dbt.values():
        assert task.deferrable, task.task_id
        assert task.producer_task_id == producer.task_id
        assert task.env == producer.env, task.task_id  # a retry runs its model alone
        # A retry runs `dbt run` or `dbt test`: `dbt build`'s flags stay on the producer.
        assert "--exclude-resource-type" not in task.dbt_cmd_flags, task.task_id
    flags = producer.dbt_cmd_flags
    assert flags[flags.index("--exclude-resource-type") + 1] == "unit_test"
    # The digests wait for every sensor, and run whatever the build's outcome.
    digests = dag.get_task("send_digests")
    leaves = {t for t in dbt if not dag.get_task(t).downstream_task_ids - {"night_failed"}}
    assert digests.trigger_rule == "all_done"
    assert {t for t in dbt if "send_digests" in dag.get_task(t).downstream_task_ids} >= leaves
