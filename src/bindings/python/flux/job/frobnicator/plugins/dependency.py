##############################################################
# SPDX-License-Identifier: LGPL-3.0
##############################################################

"""Translate dependency.name into a job id for dependency.afterok

Let a job depend on other jobs of the same user by their names:

``--setattr=dependency.name=NAME`` (or a list of names) adds an afterok
dependency on the job named NAME.  ``--dependency=SCHEME:NAME``, for the
schemes after, afterstart, afterok, afterany and afternotok, is resolved
the same way when NAME is not a valid job id, and keeps its scheme.  A
name with shell wildcards (``*``, ``?``, ``[...]``) matches every job name
of the user that fits.

When several jobs carry a name, the match policy decides: ``latest`` (the
most recently submitted, in any state) or ``all`` (every one still pending
or running, or the latest when none is).  It is set for the instance in
``[ingest.frobnicator.dependency]`` (``match``, ``max-matches``) and per
job by ``dependency.match`` or the URI query ``?match=``.  What was
resolved is recorded in ``attributes.system.dependency.resolved``.

Only the submitting user's jobs are ever considered: names are looked up
for the userid the job is submitted by, in an index each worker keeps from
the job-manager's events journal (``index = false`` turns it off), and in
the job-list service for a name the index does not hold.  Before a lookup
the plugin waits until the index (or job-list) has seen every job the
job-manager has accepted, so a job whose submission has returned is always
found.  Jobs that name no job pass through untouched and cost no query.
"""

import errno
import json
import os
import time
from fnmatch import fnmatchcase
from numbers import Real

import flux
from flux.constants import (
    FLUX_JOB_STATE_INACTIVE,
    FLUX_JOB_STATE_PENDING,
    FLUX_MSGTYPE_EVENT,
    FLUX_POLLIN,
    FLUX_REACTOR_NOWAIT,
    FLUX_REACTOR_ONCE,
)
from flux.job import JobID, JobList
from flux.job.frobnicator import FrobnicatorPlugin
from flux.job.journal import JournalConsumer, JournalEvent
from flux.job.list import job_list_id

#: The jobspec attribute (under attributes.system) this plugin reads.
ATTR = "dependency"
#: The keys a user may set under attributes.system.dependency.
KEYS = ("name", "match")
#: Where the plugin records what it resolved.
RESOLVED = "resolved"
#: Dependency schemes whose value is a job id, and so may be a name.
SCHEMES = ("after", "afterstart", "afterok", "afterany", "afternotok")
#: Match policies for a name held by several jobs.
POLICIES = ("latest", "all")
#: Characters that make a name a shell wildcard pattern.
GLOB_CHARS = frozenset("*?[")
#: The configuration table of this plugin.
CONFIG_TABLE = "[ingest.frobnicator.dependency]"


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


def is_pattern(name):
    """True if name is a shell wildcard pattern rather than a plain name"""
    return not GLOB_CHARS.isdisjoint(name)


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


def policy_of(value, where):
    """Return a match policy, or raise ValueError naming where it was set"""
    if value not in POLICIES:
        shown = json.dumps(value) if not isinstance(value, str) else f"'{value}'"
        raise ValueError(f'{where}: expected "latest" or "all", got {shown}')
    return value


def is_jobid(value):
    """True if value parses as a Flux job id, as flux itself decides"""
    try:
        JobID(value)
    except (ValueError, TypeError, OverflowError):
        return False
    return True


class Config:
    """The plugin's table of the broker configuration

    ``match``: the default match policy (``latest``); ``max-matches``: the
    most jobs one name or pattern may make a job depend on (1000);
    ``index``: keep a journal-fed index of job names in each worker (true),
    or ask job-list for every name (false).
    """

    def __init__(self, config=None):
        self.match = "latest"
        self.max_matches = 1000
        self.index = True
        table = (config or {}).get("ingest", {}).get("frobnicator", {})
        table = table.get(ATTR, {})
        if not isinstance(table, dict):
            raise ValueError(f"{CONFIG_TABLE}: expected a table")
        for key, value in table.items():
            if key == "match":
                self.match = policy_of(value, f"{CONFIG_TABLE} match")
            elif key == "max-matches":
                if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                    raise ValueError(
                        f"{CONFIG_TABLE} max-matches: expected a positive"
                        f" integer, got {json.dumps(value)}"
                    )
                self.max_matches = value
            elif key == "index":
                if not isinstance(value, bool):
                    raise ValueError(
                        f"{CONFIG_TABLE} index: expected true or false,"
                        f" got {json.dumps(value)}"
                    )
                self.index = value
            else:
                raise ValueError(f"{CONFIG_TABLE}: unknown key '{key}'")


class Request:
    """One name or pattern to resolve, and where it came from

    ``entry`` is the dependencies entry it replaces (a native URI), or None
    for a name given in ``dependency.name``.
    """

    def __init__(self, scheme, name, policy, entry=None):
        self.scheme = scheme
        self.name = name
        self.policy = policy
        self.entry = entry
        self.ids = []

    @property
    def where(self):
        """How the request reads in an error message"""
        if self.entry is None:
            return f"{ATTR}.name"
        return f"{ATTR}: {self.scheme}:{self.name}"

    def record(self):
        """What the jobspec records of this request once resolved"""
        return {
            "scheme": self.scheme,
            "name": self.name,
            "match": self.policy,
            "ids": [jobid.f58 for jobid in self.ids],
        }


def requests_of(jobspec, default_policy):
    """Return the Requests of a jobspec: its names to resolve

    Raises ValueError naming the attribute for anything malformed.
    """
    system = jobspec.attributes.get("system", {})
    requests = []
    policy = default_policy
    if ATTR in system:
        request = system[ATTR]
        if not isinstance(request, dict):
            raise ValueError(
                f"{ATTR}: expected a table with key 'name' (use {ATTR}.name=NAME)"
            )
        for key in request:
            if key not in KEYS and key != RESOLVED:
                raise attr_error(key, "unknown key")
        if "match" in request:
            policy = policy_of(request["match"], f"{ATTR}.match")
        if "name" in request:
            requests += [
                Request("afterok", name, policy) for name in names_of(request["name"])
            ]
        elif not request:
            raise attr_error("name", "missing (use --setattr=dependency.name=NAME)")
    # flux's Jobspec class has checked that dependencies is a list
    for entry in system.get("dependencies", []):
        if (
            isinstance(entry, dict)
            and entry.get("scheme") in SCHEMES
            and isinstance(entry.get("value"), str)
            and entry["value"].strip()
            and not is_jobid(entry["value"])
        ):
            where = f"{ATTR}: {entry['scheme']}:{entry['value']}: match"
            entry_policy = policy
            if "match" in entry:
                entry_policy = policy_of(entry["match"], where)
            requests.append(
                Request(entry["scheme"], entry["value"], entry_policy, entry)
            )
    return requests


def pick(jobs, policy):
    """Return the ids that policy picks from jobs of one name

    ``latest``: the most recently submitted job.  ``all``: every job still
    active (pending or running), oldest first, or the latest when none is.
    """
    jobs = sorted(jobs, key=lambda job: (job["t_submit"], job["id"]))
    if policy == "all":
        active = [job for job in jobs if job["state"] != FLUX_JOB_STATE_INACTIVE]
        if active:
            return [JobID(job["id"]) for job in active]
    return [JobID(jobs[-1]["id"])]


class JobNames:
    """Find the jobs of one user by name through the job-list service"""

    ATTRS = ["name", "t_submit", "state"]

    def __init__(self, handle):
        self.handle = handle

    def max_jobid(self):
        """Return the highest job id the job-manager has accepted"""
        return self.handle.rpc("job-manager.getinfo").get()["max_jobid"]

    def sync(self, max_jobid):
        """Wait until job-list knows every job the job-manager accepted

        job-list learns of new jobs asynchronously, from the job-manager's
        journal, so a job whose submission has just returned may not be
        listed yet.  Look max_jobid, the highest job id the job-manager has
        accepted, up in job-list: job-list answers only
        once it has processed that job, and the journal is ordered, so it
        has processed every earlier one as well.
        """
        if max_jobid == 0:
            return
        try:
            job_list_id(self.handle, max_jobid, attrs=["state"]).get()
        except OSError as exc:
            # the newest job was purged already: nothing left to wait for
            if exc.errno != errno.ENOENT:
                raise

    def jobs(self, userid, name=None):
        """Return userid's jobs (named name, if given) as job-list dicts

        The job-list service filters on user and name; every response of
        its streamed reply is read.
        """
        joblist = JobList(
            self.handle,
            attrs=self.ATTRS,
            user="all",
            name=name,
            constraint={"userid": [userid]},
            max_entries=0,
        )
        return joblist.fetch_jobs().get_jobs()

    def named(self, userid, name):
        """Return {name: jobs} for a plain name or a wildcard pattern"""
        if not is_pattern(name):
            jobs = self.jobs(userid, name)
            return {name: jobs} if jobs else {}
        found = {}
        for job in self.jobs(userid):
            if fnmatchcase(job["name"], name):
                found.setdefault(job["name"], []).append(job)
        return found


def job_name(jobspec):
    """Return a job's name as job-list derives it from its jobspec

    ``attributes.system.job.name``, or else the base name of the first
    task's command.
    """
    try:
        name = jobspec["attributes"]["system"]["job"]["name"]
        if isinstance(name, str):
            return name
    except (KeyError, TypeError):
        pass
    try:
        arg0 = jobspec["tasks"][0]["command"][0]
    except (KeyError, IndexError, TypeError):
        return None
    if not isinstance(arg0, str):
        return None
    base = os.path.basename(arg0)
    return base or arg0


class NameJournal(JournalConsumer):
    """The job-manager's events journal, with only the events an index uses

    The job-manager filters the stream (its "allow" list), so a worker is
    not woken for the other events of every job.
    """

    EVENTS = ("submit", "clean", "invalidate", "jobspec-update")

    @property
    def request_payload(self):
        payload = super().request_payload
        payload["allow"] = {name: 1 for name in self.EVENTS}
        return payload

    def process_response(self, resp):
        """Keep the job's name, not its jobspec (nor R)

        While the journal's history is read, every event is held until
        the end of the history; holding each job's jobspec would cost
        megabytes per thousand jobs.
        """
        jobspec = resp.get("jobspec")
        return {
            "jobid": resp.get("id"),
            "name": job_name(jobspec) if jobspec is not None else None,
        }

    def create_event(self, entry, jobid=-1, name=None):
        event = JournalEvent(jobid, entry)
        event.job_name = name
        return event


class JobIndex:
    """An index (userid, name) -> jobs, kept current from the journal

    Filled from the history of the job-manager's events journal when first
    used, then updated from its live events and from purge events.  Before
    each lookup, :meth:`catch_up` processes the journal until it has seen
    the newest job the job-manager accepted, so a job whose submission has
    returned is in the index.  A lookup costs one constant-time RPC
    (``job-manager.getinfo``) however many jobs the instance holds.
    """

    #: Seconds to wait for the journal to catch up before giving up.
    TIMEOUT = 10.0

    def __init__(self, handle):
        self.handle = handle
        self.reactor = handle.get_reactor()
        self.jobs = {}  # id -> [userid, name, t_submit, active]
        self.names = {}  # userid -> {name: set of ids}
        self.max_seen = 0
        self.live = False
        self.failed = None
        handle.event_subscribe("job-purge-inactive")
        self.purge_watcher = handle.msg_watcher_create(
            self._on_purge, FLUX_MSGTYPE_EVENT, "job-purge-inactive"
        ).start()
        self.journal = NameJournal(handle, full=True, include_sentinel=True)
        self.journal.set_callback(self._on_event)
        self.journal.start()

    def _add(self, jobid, userid, name, t_submit):
        self.jobs[jobid] = [userid, name, t_submit, True]
        self.names.setdefault(userid, {}).setdefault(name, set()).add(jobid)

    def forget(self, jobid):
        """Remove a job from the index (it was invalidated or purged)"""
        job = self.jobs.pop(jobid, None)
        if job is None:
            return
        names = self.names[job[0]]
        names[job[1]].discard(jobid)
        if not names[job[1]]:
            del names[job[1]]

    def _on_event(self, event):
        if event is None:
            self.failed = "the job-manager journal ended"
            return
        if event.is_empty():
            self.live = True
            return
        jobid = int(event.jobid)
        if event.name == "submit":
            name = event.job_name
            if name is not None:
                self._add(jobid, event.context["userid"], name, event.timestamp)
            self.max_seen = max(self.max_seen, jobid)
        elif event.name == "clean":
            if jobid in self.jobs:
                self.jobs[jobid][3] = False
        elif event.name == "invalidate":
            self.forget(jobid)
        elif event.name == "jobspec-update":
            name = event.context.get("attributes.system.job.name")
            job = self.jobs.get(jobid)
            if job is not None and isinstance(name, str):
                userid, _, t_submit, active = job
                self.forget(jobid)
                self._add(jobid, userid, name, t_submit)
                self.jobs[jobid][3] = active

    def _on_purge(self, handle, watcher, msg, arg):
        for jobid in msg.payload.get("jobs", []):
            self.forget(jobid)

    def drain(self):
        """Process every message already received (journal, purge events)

        One turn of the reactor may dispatch only part of what is queued, so
        turn it until the handle has nothing left to read.
        """
        for _ in range(1_000_000):
            if not self.handle.pollevents() & FLUX_POLLIN:
                return
            self.turn(FLUX_REACTOR_NOWAIT)

    def turn(self, flags):
        """Run the reactor once with flags, raising what a callback raised

        flux_reactor_run() itself: Flux.reactor_run() would set up and tear
        down a SIGINT watcher on every call, which costs more than the turn.
        """
        self.handle.flux_reactor_run(self.reactor, flags)
        type(self.handle).raise_if_exception()

    def catch_up(self, max_jobid):
        """Process the journal until it has shown job max_jobid

        Returns True when the index is current, False if the journal did
        not catch up within TIMEOUT (the caller then asks job-list).
        """
        deadline = time.monotonic() + self.TIMEOUT
        try:
            self.drain()
            while not self.live or self.max_seen < max_jobid:
                if self.failed or time.monotonic() > deadline:
                    return False
                timer = self.handle.timer_watcher_create(
                    max(deadline - time.monotonic(), 0), lambda *args: None
                ).start()
                self.turn(FLUX_REACTOR_ONCE)
                timer.stop()
        except OSError as exc:
            # the journal failed: job-list answers from now on
            self.failed = str(exc)
            return False
        return True

    def named(self, userid, name):
        """Return {name: jobs} for a plain name or a wildcard pattern

        Each job is a dict with the keys of a job-list answer: id,
        t_submit and state (only active or inactive matters here).
        """
        names = self.names.get(userid, {})
        if is_pattern(name):
            matched = [n for n in names if fnmatchcase(n, name)]
        else:
            matched = [name] if name in names else []
        return {n: [self._as_joblist(jobid) for jobid in names[n]] for n in matched}

    def _as_joblist(self, jobid):
        _, _, t_submit, active = self.jobs[jobid]
        state = FLUX_JOB_STATE_PENDING if active else FLUX_JOB_STATE_INACTIVE
        return {"id": jobid, "t_submit": t_submit, "state": state}


class Frobnicator(FrobnicatorPlugin):
    """Add a dependency for each job a jobspec names"""

    def __init__(self, parser):
        super().__init__(parser)
        self.config = Config()
        self._names = None
        self._index = None

    def configure(self, args, config):
        self.config = Config(config)

    @property
    def names(self):
        """The job-list lookup, on one Flux handle opened once per worker"""
        if self._names is None:
            self._names = JobNames(flux.Flux())
        return self._names

    @property
    def index(self):
        """The journal-fed index on the same handle, or None if unavailable"""
        if self._index is None and self.config.index:
            try:
                self._index = JobIndex(self.names.handle)
            except OSError:
                self.config.index = False
        return self._index

    def lookup(self, userid, requests):
        """Fill in the ids of each request, from the index if it is current

        A name the index does not know is asked of job-list, so that nothing
        is ever missed; so is everything when the index cannot catch up.
        """
        max_jobid = self.names.max_jobid()
        index = self.index
        if index is not None and not index.catch_up(max_jobid):
            index = None
        synced = False
        for req in requests:
            if index is not None:
                req.ids = self.picked(req.policy, index.named(userid, req.name), index)
            if not req.ids:
                if not synced:
                    self.names.sync(max_jobid)
                    synced = True
                req.ids = self.picked(req.policy, self.names.named(userid, req.name))

    def picked(self, policy, jobs_by_name, index=None):
        """Return the ids that policy picks for each name, in name order

        A pick from the index that is inactive is confirmed with job-list
        first: the purge event that removes it from the index may arrive
        after the next submission.  Only picks are confirmed, so this costs
        at most one RPC per name, and none for an active job.
        """
        ids = []
        for name in sorted(jobs_by_name):
            jobs = jobs_by_name[name]
            while jobs:
                chosen = pick(jobs, policy)
                purged = self.purged(index, jobs, chosen) if index else set()
                if not purged:
                    ids += chosen
                    break
                jobs = [job for job in jobs if job["id"] not in purged]
        return list(dict.fromkeys(ids))

    def purged(self, index, jobs, chosen):
        """Return the ids among chosen that job-list says were purged"""
        inactive = {
            job["id"] for job in jobs if job["state"] == FLUX_JOB_STATE_INACTIVE
        }
        futures = {
            jobid: job_list_id(self.names.handle, jobid, attrs=["state"])
            for jobid in chosen
            if jobid in inactive
        }
        purged = set()
        for jobid, future in futures.items():
            try:
                future.get()
            except OSError as exc:
                if exc.errno != errno.ENOENT:
                    raise
                purged.add(jobid)
                index.forget(jobid)
        return purged

    def resolve(self, userid, requests):
        """Fill in the ids of each request, or raise ValueError"""
        try:
            self.lookup(userid, requests)
        except OSError as exc:
            where = requests[0].where if len(requests) == 1 else f"{ATTR}.name"
            raise ValueError(
                f"{where}: job-list lookup failed: {exc.strerror or exc}"
            ) from None
        for req in requests:
            if not req.ids:
                if is_pattern(req.name):
                    raise ValueError(f"{req.where}: no job name matches '{req.name}'")
                raise ValueError(f"{req.where}: no job named '{req.name}' found")
            if len(req.ids) > self.config.max_matches:
                raise ValueError(
                    f"{req.where}: '{req.name}' matches {len(req.ids)} jobs,"
                    f" more than max-matches ({self.config.max_matches})"
                )

    def frob(self, jobspec, userid, urgency, flags):
        requests = requests_of(jobspec, self.config.match)
        if not requests:
            return
        self.resolve(userid, requests)
        system = jobspec.attributes["system"]
        dependencies = []
        for entry in system.get("dependencies", []):
            req = next((r for r in requests if r.entry is entry), None)
            if req is None:
                dependencies.append(entry)
                continue
            # a native URI on a name: one entry per job, same scheme
            rest = {k: v for k, v in entry.items() if k not in ("value", "match")}
            dependencies += [{**rest, "value": jobid.f58} for jobid in req.ids]
        named = [req for req in requests if req.entry is None]
        for jobid in dict.fromkeys(jobid for req in named for jobid in req.ids):
            dependencies.append({"scheme": "afterok", "value": jobid.f58})
        system["dependencies"] = dependencies
        record = system.setdefault(ATTR, {})
        record[RESOLVED] = [req.record() for req in requests]
