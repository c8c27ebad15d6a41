"""Fixtures: a real Flux instance with the dependency plugin from this tree

The instance is started once per test session with the project's
broker.toml, in which the "dependency" plugin is replaced by its file in
this source tree, so the tests never need the plugin installed.  There is
no stand-in for flux: without flux-core the session fails.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

SRCDIR = Path(__file__).resolve().parents[2]
PLUGIN = SRCDIR / "src/bindings/python/flux/job/frobnicator/plugins/dependency.py"


class Instance:
    """A running flux instance: its URI, a handle, and a flux(1) runner"""

    def __init__(self, uri):
        self.uri = uri
        self.env = dict(os.environ, FLUX_URI=uri)
        self._handle = None

    @property
    def handle(self):
        """A Flux handle on the instance"""
        import flux

        if self._handle is None:
            self._handle = flux.Flux(self.uri)
        return self._handle

    def flux(self, *args, check=True, stdin=None, userid=None):
        """Run flux(1) with args in the instance; return CompletedProcess

        With userid, the request carries that user's credentials (with the
        owner role, which a test instance's owner may assume).
        """
        env = self.env
        if userid is not None:
            env = dict(env, FLUX_HANDLE_USERID=str(userid), FLUX_HANDLE_ROLEMASK="1")
        proc = subprocess.run(
            ["flux", *args],
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"flux {' '.join(args)} failed ({proc.returncode}): {proc.stderr}"
            )
        return proc

    def submit(self, *args, userid=None):
        """Submit a job with flux submit arguments; return its id string

        With userid, the job is submitted (held) as that user.
        """
        if userid is None:
            return self.flux("submit", *args).stdout.strip()
        jobspec = self.flux("submit", "--dry-run", *args).stdout
        signed = self.flux(
            "python",
            str(SRCDIR / "t/scripts/sign-none.py"),
            str(userid),
            stdin=jobspec,
        ).stdout
        proc = self.flux(
            "job",
            "submit",
            "--urgency=0",
            "--flags=signed",
            userid=userid,
            stdin=signed,
        )
        return proc.stdout.strip()

    def jobspec(self, jobid):
        """Return the jobspec of a submitted job as a dict"""
        return json.loads(self.flux("job", "info", jobid, "jobspec").stdout)

    def dependencies(self, jobid):
        """Return attributes.system.dependencies of a submitted job"""
        return self.jobspec(jobid)["attributes"]["system"].get("dependencies")


#: The two ways the plugin finds jobs: its journal-fed index (the default,
#: with job-list on a miss), or job-list alone (index = false).
LOOKUPS = {"index": [], "job-list": ["index = false"]}


def broker_config(path, lookup="index", lines=()):
    """Write the project's broker.toml with the plugin from this tree

    lines are added to its [ingest.frobnicator.dependency] table.
    """
    text = (SRCDIR / "broker.toml").read_text()
    assert '"dependency"' in text, "broker.toml does not load the dependency plugin"
    text = text.replace('"dependency"', json.dumps(str(PLUGIN)))
    table = [*LOOKUPS[lookup], *lines]
    if table:
        text += "\n[ingest.frobnicator.dependency]\n" + "\n".join(table) + "\n"
    path.write_text(text)
    return path


@pytest.fixture(scope="session", params=list(LOOKUPS))
def instance(request, tmp_path_factory):
    """A real flux instance (one broker), once per lookup method"""
    if shutil.which("flux") is None:
        pytest.fail("flux not found on PATH: flux-core >= 0.88 is required")
    conf = broker_config(tmp_path_factory.mktemp("conf") / "broker.toml", request.param)
    proc = subprocess.Popen(
        [
            "flux",
            "start",
            f"-o,--config-path={conf},-Slog-stderr-level=1",
            "sh",
            "-c",
            'echo "$FLUX_URI"; exec cat >/dev/null',
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    uri = proc.stdout.readline().strip()
    if not uri:
        proc.kill()
        pytest.fail("flux start did not start an instance")
    instance = Instance(uri)
    instance.lookup = request.param
    yield instance
    proc.stdin.close()
    proc.wait(timeout=120)
