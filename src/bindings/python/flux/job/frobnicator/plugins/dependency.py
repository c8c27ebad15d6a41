##############################################################
# SPDX-License-Identifier: LGPL-3.0
##############################################################

"""Translate dependency.name into a job id for dependency.afterok

A job submitted with ``--setattr=dependency.name=NAME`` waits for the most
recently submitted job of the same user that is named NAME, exactly as if
it had been submitted with ``--dependency=afterok:ID`` on that job's id.
The value may also be a list of names, which adds one afterok dependency
per name.

The name is looked up in the job-list service, filtered there on the name
and on the submitting user, so another user's job is never chosen.  Before
the lookup, the plugin waits until job-list has seen every job the
job-manager has accepted, so a job whose submission has returned is always
found.  Jobs without ``dependency.name`` pass through untouched.
"""

import errno
import json
from numbers import Real

import flux
from flux.job import JobID, JobList
from flux.job.frobnicator import FrobnicatorPlugin
from flux.job.list import job_list_id

#: The jobspec attribute (under attributes.system) this plugin reads.
ATTR = "dependency"
#: The keys this plugin understands under attributes.system.dependency.
KEYS = ("name",)


def attr_error(key, message):
    """Return a ValueError whose text names the attribute, flux style"""
    return ValueError(f"{ATTR}.{key}: {message}")


def describe(value):
    """Name the JSON type of value, for error messages"""
    if isinstance(value, (bool, type(None))):
        return json.dumps(value)
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def name_of(value, what="a job name"):
    """Return one job name from a jobspec value, or raise ValueError

    A number is taken as its text, so that ``dependency.name=123`` (which
    ``flux submit --setattr`` decodes as an integer) finds the job named
    ``123``.
    """
    if isinstance(value, Real) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise attr_error("name", f"expected {what}, got {describe(value)}")
    if not value.strip():
        raise attr_error("name", "job name must not be empty")
    return value


def names_of(value):
    """Return the list of job names that ``dependency.name`` asks for"""
    if not isinstance(value, list):
        return [name_of(value, what="a job name or a list of job names")]
    if not value:
        raise attr_error("name", "expected at least one job name")
    names = [name_of(item, what="a job name in the list") for item in value]
    # keep the first of each name, in the order given
    return list(dict.fromkeys(names))


def requested_names(jobspec):
    """Return the names asked for in jobspec, or None if none were asked"""
    system = jobspec.attributes.get("system", {})
    if ATTR not in system:
        return None
    request = system[ATTR]
    if not isinstance(request, dict):
        raise ValueError(
            f"{ATTR}: expected a table with key 'name' (use {ATTR}.name=NAME)"
        )
    for key in request:
        if key not in KEYS:
            raise attr_error(key, "unknown key")
    if "name" not in request:
        raise attr_error("name", "missing (use --setattr=dependency.name=NAME)")
    return names_of(request["name"])


class JobNames:
    """Find the jobs of one user by name through the job-list service"""

    def __init__(self, handle):
        self.handle = handle

    def sync(self):
        """Wait until job-list knows every job the job-manager accepted

        job-list learns of new jobs asynchronously, from the job-manager's
        journal, so a job whose submission has just returned may not be
        listed yet.  Ask the job-manager for the highest job id it has
        accepted, then look that id up in job-list: job-list answers only
        once it has processed that job, and the journal is ordered, so it
        has processed every earlier one as well.
        """
        max_jobid = self.handle.rpc("job-manager.getinfo").get()["max_jobid"]
        if max_jobid == 0:
            return
        try:
            job_list_id(self.handle, max_jobid, attrs=["state"]).get()
        except OSError as exc:
            # the newest job was purged already: nothing left to wait for
            if exc.errno != errno.ENOENT:
                raise

    def latest(self, userid, name):
        """Return the id of user's most recently submitted job named name

        Jobs in any state count.  Returns None when the user has no job of
        that name.
        """
        joblist = JobList(
            self.handle,
            attrs=["t_submit"],
            user="all",
            name=name,
            constraint={"userid": [userid]},
            max_entries=0,
        )
        # get_jobs() reads every response of the streamed reply
        jobs = joblist.fetch_jobs().get_jobs()
        if not jobs:
            return None
        newest = max(jobs, key=lambda job: (job["t_submit"], job["id"]))
        return JobID(newest["id"])


class Frobnicator(FrobnicatorPlugin):
    """Add an afterok dependency for each job named in dependency.name"""

    def __init__(self, parser):
        super().__init__(parser)
        self._names = None

    @property
    def names(self):
        """The job-list lookup, on one Flux handle opened once per worker"""
        if self._names is None:
            self._names = JobNames(flux.Flux())
        return self._names

    def resolve(self, userid, names):
        """Return the job id of userid's latest job for each name"""
        try:
            self.names.sync()
            found = {name: self.names.latest(userid, name) for name in names}
        except OSError as exc:
            raise attr_error(
                "name", f"job-list lookup failed: {exc.strerror or exc}"
            ) from None
        for name, jobid in found.items():
            if jobid is None:
                raise attr_error("name", f"no job named '{name}' found")
        return list(found.values())

    def frob(self, jobspec, userid, urgency, flags):
        names = requested_names(jobspec)
        if names is None:
            return
        jobids = self.resolve(userid, names)
        system = jobspec.attributes["system"]
        dependencies = system.setdefault("dependencies", [])
        if not isinstance(dependencies, list):
            raise ValueError("dependencies: expected a list")
        for jobid in dict.fromkeys(jobids):
            # f58, as flux prints ids in this locale: flux jobs INFO then
            # reads depends:after-success=ƒ... as for --dependency=afterok
            dependencies.append({"scheme": "afterok", "value": jobid.f58})
