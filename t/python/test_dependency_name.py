"""dependency.name against a real flux instance: submit, job-list, job-manager"""

import json
import os

import flux.job
import pytest
from conftest import PLUGIN

OTHER_USERID = os.getuid() + 4242


def afterok(jobid):
    return {"scheme": "afterok", "value": jobid}


def frobnicate(instance, *requests):
    """Feed (jobspec, userid) pairs to one flux job-frobnicator worker

    Returns its answers, one per request, and checks that the worker
    answered every request and exited cleanly at the end of its input.
    """
    lines = "".join(
        json.dumps({"jobspec": js, "userid": uid, "urgency": 16, "flags": 0}) + "\n"
        for js, uid in requests
    )
    proc = instance.flux(
        "job-frobnicator", f"--plugins=defaults,constraints,{PLUGIN}", stdin=lines
    )
    answers = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(answers) == len(requests)
    return answers


def dry_run(instance, *args):
    """Return the jobspec flux submit would send, as a dict"""
    return json.loads(instance.flux("submit", "--dry-run", *args, "true").stdout)


def test_name_adds_afterok_on_the_id_of_the_named_job(instance):
    jobid = instance.submit("--urgency=hold", "--job-name=py-first", "true")
    depid = instance.submit(
        "--urgency=hold", "--setattr=dependency.name=py-first", "true"
    )
    assert instance.dependencies(depid) == [afterok(jobid)]
    instance.flux("cancel", depid, jobid)


def test_job_waits_in_depend_and_runs_after_the_named_job_succeeds(instance):
    jobid = instance.submit("--urgency=hold", "--job-name=py-waited", "true")
    depid = instance.submit("--setattr=dependency.name=py-waited", "true")
    instance.flux("job", "wait-event", "-t", "15", depid, "dependency-add")
    info = instance.flux("jobs", "-no", "{state} {contextual_info}", depid).stdout
    assert info.split() == ["DEPEND", f"depends:after-success={jobid}"]
    instance.flux("job", "urgency", jobid, "default")
    instance.flux("job", "wait-event", "-t", "15", depid, "clean")
    assert instance.flux("jobs", "-no", "{result}", depid).stdout.strip() == "COMPLETED"


def test_job_gets_the_dependency_exception_without_running_when_named_job_fails(
    instance,
):
    jobid = instance.submit("--urgency=hold", "--job-name=py-fails", "false")
    depid = instance.submit("--setattr=dependency.name=py-fails", "true")
    instance.flux("job", "wait-event", "-t", "15", depid, "dependency-add")
    instance.flux("job", "urgency", jobid, "default")
    instance.flux(
        "job", "wait-event", "-t", "15", "-m", "type=dependency", depid, "exception"
    )
    instance.flux("job", "wait-event", "-t", "15", depid, "clean")
    events = instance.flux("job", "eventlog", depid).stdout.split()
    assert "start" not in events


def test_the_most_recently_submitted_of_several_jobs_with_the_name_is_chosen(instance):
    ids = [
        instance.submit("--urgency=hold", "--job-name=py-several", "true")
        for _ in range(3)
    ]
    depid = instance.submit(
        "--urgency=hold", "--setattr=dependency.name=py-several", "true"
    )
    assert instance.dependencies(depid) == [afterok(ids[-1])]
    instance.flux("cancel", depid, *ids)


def test_the_latest_is_found_in_any_state_reading_every_streamed_response(instance):
    # job-list streams one response per job: pending first, inactive last.
    held = instance.submit("--urgency=hold", "--job-name=py-pair", "true")
    done = instance.submit("--job-name=py-pair", "true")
    instance.flux("job", "wait-event", "-t", "15", done, "clean")
    depid = instance.submit("--setattr=dependency.name=py-pair", "true")
    assert instance.dependencies(depid) == [afterok(done)]
    instance.flux("job", "wait-event", "-t", "15", depid, "clean")
    instance.flux("cancel", held)


def test_a_missing_name_is_rejected_with_one_line_naming_attribute_and_name(instance):
    proc = instance.flux(
        "submit", "--setattr=dependency.name=py-none", "true", check=False
    )
    assert proc.returncode != 0
    assert proc.stderr.count("\n") == 1
    assert "dependency.name: no job named 'py-none' found" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_dependencies_from_dependency_are_kept_and_the_named_one_added_after(
    instance,
):
    first = instance.submit("--urgency=hold", "true")
    named = instance.submit("--urgency=hold", "--job-name=py-keep", "true")
    depid = instance.submit(
        "--urgency=hold",
        f"--dependency=afterany:{first}",
        "--setattr=dependency.name=py-keep",
        "true",
    )
    assert instance.dependencies(depid) == [
        {"scheme": "afterany", "value": first},
        afterok(named),
    ]
    instance.flux("cancel", depid, first, named)


def test_a_job_without_dependency_name_passes_through_unchanged(instance):
    jobspec = dry_run(instance, "--dependency=afterany:1234", "-t", "5m")
    (answer,) = frobnicate(instance, (jobspec, os.getuid()))
    assert answer == {"errnum": 0, "data": jobspec}


def test_a_number_is_taken_as_its_text(instance):
    jobid = instance.submit("--urgency=hold", "--job-name=4711", "true")
    depid = instance.submit("--urgency=hold", "--setattr=dependency.name=4711", "true")
    assert instance.dependencies(depid) == [afterok(jobid)]
    instance.flux("cancel", depid, jobid)


def test_a_list_of_names_gives_one_afterok_per_name(instance):
    x = instance.submit("--urgency=hold", "--job-name=py-x", "true")
    y = instance.submit("--urgency=hold", "--job-name=py-y", "true")
    depid = instance.submit(
        "--urgency=hold", '--setattr=dependency.name=["py-x", "py-y"]', "true"
    )
    assert instance.dependencies(depid) == [afterok(x), afterok(y)]
    instance.flux("cancel", depid, x, y)


@pytest.mark.parametrize(
    "value, message",
    [
        ('""', "job name must not be empty"),
        ('"  "', "job name must not be empty"),
        ("true", "expected a job name or a list of job names, got true"),
        ("null", "expected a job name or a list of job names, got null"),
        ('{"a": 1}', "expected a job name or a list of job names, got an object"),
        ('[["a"]]', "expected a job name in the list, got a list"),
        ("[]", "expected at least one job name"),
    ],
)
def test_a_bad_value_is_rejected_with_one_line_naming_dependency_name(
    instance, value, message
):
    proc = instance.flux(
        "submit", f"--setattr=dependency.name={value}", "true", check=False
    )
    assert proc.returncode != 0
    assert proc.stderr.count("\n") == 1
    assert f"dependency.name: {message}" in proc.stderr


def test_one_worker_answers_every_job_after_bad_ones(instance):
    jobid = instance.submit("--urgency=hold", "--job-name=py-after-bad", "true")
    good = dry_run(instance, "--setattr=dependency.name=py-after-bad")
    bad = [
        dry_run(instance, f"--setattr=dependency.name={value}")
        for value in ("true", "null", "[[1]]", "{}", '""', "py-none")
    ]
    requests = []
    for jobspec in bad:
        requests += [(jobspec, os.getuid()), (good, os.getuid())]
    answers = frobnicate(instance, *requests)
    for answer in answers[0::2]:
        assert answer["errnum"] == 1
        assert answer["errstr"].startswith("dependency.name: ")
    for answer in answers[1::2]:
        deps = answer["data"]["attributes"]["system"]["dependencies"]
        assert deps == [afterok(jobid)]
    instance.flux("cancel", jobid)


def test_another_users_job_of_the_same_name_is_never_chosen(instance):
    mine = instance.submit("--urgency=hold", "--job-name=py-shared", "true")
    theirs = instance.submit("--job-name=py-shared", "true", userid=OTHER_USERID)
    assert instance.flux("jobs", "-no", "{userid}", theirs).stdout.strip() == str(
        OTHER_USERID
    )
    depid = instance.submit(
        "--urgency=hold", "--setattr=dependency.name=py-shared", "true"
    )
    assert instance.dependencies(depid) == [afterok(mine)]
    theirdep = instance.submit(
        "--setattr=dependency.name=py-shared", "true", userid=OTHER_USERID
    )
    assert instance.dependencies(theirdep) == [afterok(theirs)]
    instance.flux("cancel", depid, theirdep, mine, theirs)


def test_the_lookup_uses_the_userid_given_to_frob_not_the_workers_own(instance):
    theirs = instance.submit("--job-name=py-only-theirs", "true", userid=OTHER_USERID)
    jobspec = dry_run(instance, "--setattr=dependency.name=py-only-theirs")
    as_them, as_me = frobnicate(
        instance, (jobspec, OTHER_USERID), (jobspec, os.getuid())
    )
    assert as_them["data"]["attributes"]["system"]["dependencies"] == [afterok(theirs)]
    assert as_me == {
        "errnum": 1,
        "errstr": "dependency.name: no job named 'py-only-theirs' found",
    }
    instance.flux("cancel", theirs)


def submit_back_to_back(handle, name):
    """Submit a held job named name, then at once one that names it

    Uses the Python API, with no process start between the two.  Returns
    the id of the named job and the ids the dependent job depends on.
    """
    first = flux.job.JobspecV1.from_command(["true"])
    first.setattr("system.job.name", name)
    jobid = flux.job.submit(handle, first, urgency=0)
    second = flux.job.JobspecV1.from_command(["true"])
    second.setattr("system.dependency.name", name)
    depid = flux.job.submit(handle, second, urgency=0)
    jobspec = flux.job.job_kvs_lookup(handle, depid, decode=True)["jobspec"]
    deps = jobspec["attributes"]["system"]["dependencies"]
    return jobid, [int(flux.job.JobID(dep["value"])) for dep in deps]


def test_a_job_whose_submit_returned_is_found_by_the_next_submission(instance):
    for i in range(100):
        jobid, depends_on = submit_back_to_back(instance.handle, f"py-b2b-{i}")
        assert depends_on == [jobid]
    instance.flux("cancel", "--all")


def test_a_name_reused_back_to_back_gives_the_newest_job_to_the_next_submission(
    instance,
):
    # The older jobs of the name are known already: only waiting for the
    # journal (or job-list) to show the newest job gets this right.
    for _ in range(100):
        jobid, depends_on = submit_back_to_back(instance.handle, "py-reused")
        assert depends_on == [jobid]
    instance.flux("cancel", "--all")
