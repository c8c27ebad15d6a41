"""Names in --dependency=SCHEME:NAME, wildcard patterns and the match policy"""

import pytest
from conftest import broker_config


def dependencies(instance, jobid):
    return [(d["scheme"], d["value"]) for d in instance.dependencies(jobid)]


@pytest.fixture(scope="module")
def jobs(instance):
    """Held jobs: task-1 twice, task-2, sweep-001..003"""
    ids = {
        "task-1-old": instance.submit("--urgency=hold", "--job-name=task-1", "true"),
        "task-1": instance.submit("--urgency=hold", "--job-name=task-1", "true"),
        "task-2": instance.submit("--urgency=hold", "--job-name=task-2", "true"),
    }
    for i in range(1, 4):
        ids[f"sweep-00{i}"] = instance.submit(
            "--urgency=hold", f"--job-name=sweep-00{i}", "true"
        )
    yield ids
    instance.flux("cancel", "--all")


@pytest.mark.parametrize(
    "scheme", ["after", "afterstart", "afterok", "afterany", "afternotok"]
)
def test_a_native_uri_on_a_name_resolves_and_keeps_its_scheme(instance, jobs, scheme):
    depid = instance.submit("--urgency=hold", f"--dependency={scheme}:task-2", "true")
    assert dependencies(instance, depid) == [(scheme, jobs["task-2"])]


def test_two_native_uris_on_names_give_two_dependencies(instance, jobs):
    depid = instance.submit(
        "--urgency=hold",
        "--dependency=afterok:task-1",
        "--dependency=afterok:task-2",
        "true",
    )
    assert dependencies(instance, depid) == [
        ("afterok", jobs["task-1"]),
        ("afterok", jobs["task-2"]),
    ]


def test_values_that_parse_as_job_ids_and_other_schemes_are_left_as_they_are(
    instance, jobs
):
    spec = instance.jobspec(
        instance.submit(
            "--urgency=hold",
            f"--dependency=afterany:{jobs['task-2']}",
            "--job-name=lonely",
            "--dependency=singleton",
            "true",
        )
    )
    assert spec["attributes"]["system"]["dependencies"] == [
        {"scheme": "afterany", "value": jobs["task-2"]},
        {"scheme": "singleton", "value": ""},
    ]
    assert "dependency" not in spec["attributes"]["system"]


def test_a_wildcard_pattern_depends_on_every_matching_name(instance, jobs):
    depid = instance.submit("--urgency=hold", "--dependency=afterok:sweep-*", "true")
    assert dependencies(instance, depid) == [
        ("afterok", jobs[f"sweep-00{i}"]) for i in range(1, 4)
    ]


def test_a_pattern_that_matches_nothing_is_an_error(instance, jobs):
    proc = instance.flux(
        "submit", "--setattr=dependency.name=nothing-*", "true", check=False
    )
    assert proc.returncode != 0
    assert "dependency.name: no job name matches 'nothing-*'" in proc.stderr


def test_match_all_picks_every_active_job_of_the_name(instance, jobs):
    depid = instance.submit(
        "--urgency=hold", "--dependency=afterok:task-1?match=all", "true"
    )
    assert dependencies(instance, depid) == [
        ("afterok", jobs["task-1-old"]),
        ("afterok", jobs["task-1"]),
    ]
    depid = instance.submit(
        "--urgency=hold",
        "--setattr=dependency.name=task-1",
        "--setattr=dependency.match=all",
        "true",
    )
    assert dependencies(instance, depid) == [
        ("afterok", jobs["task-1-old"]),
        ("afterok", jobs["task-1"]),
    ]


def test_match_latest_is_the_default(instance, jobs):
    depid = instance.submit("--urgency=hold", "--dependency=afterok:task-1", "true")
    assert dependencies(instance, depid) == [("afterok", jobs["task-1"])]


def test_the_jobspec_records_which_name_gave_which_ids(instance, jobs):
    depid = instance.submit(
        "--urgency=hold", "--dependency=afterany:sweep-00[12]", "true"
    )
    record = instance.jobspec(depid)["attributes"]["system"]["dependency"]
    assert record == {
        "resolved": [
            {
                "scheme": "afterany",
                "name": "sweep-00[12]",
                "match": "latest",
                "ids": [jobs["sweep-001"], jobs["sweep-002"]],
            }
        ]
    }


@pytest.fixture
def config(instance, tmp_path):
    """Load the test broker config with more [ingest.frobnicator.dependency]
    lines; restore it after"""

    def load(*lines):
        path = broker_config(tmp_path / "broker.toml", instance.lookup, lines)
        instance.flux("config", "load", path)

    yield load
    load()


def test_the_configured_policy_and_max_matches_apply(instance, jobs, config):
    config('match = "all"', "max-matches = 2")
    depid = instance.submit("--urgency=hold", "--dependency=afterok:task-1", "true")
    assert dependencies(instance, depid) == [
        ("afterok", jobs["task-1-old"]),
        ("afterok", jobs["task-1"]),
    ]
    proc = instance.flux("submit", "--dependency=afterok:sweep-*", "true", check=False)
    assert proc.returncode != 0
    assert "'sweep-*' matches 3 jobs, more than max-matches (2)" in proc.stderr


def test_a_bad_configuration_is_refused_naming_the_key(instance, jobs, config):
    instance.flux("dmesg", "-C")
    config('mtach = "all"')
    proc = instance.flux("submit", "true", check=False)
    assert proc.returncode != 0
    log = instance.flux("dmesg").stdout
    assert "[ingest.frobnicator.dependency]: unknown key 'mtach'" in log
