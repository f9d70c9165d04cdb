"""Run a grading child inside a bubblewrap sandbox, with limits on memory, processes and CPU.

Batch grading runs untrusted code from many people, one after another, on
the instructor's machine. Each submission's run is wrapped in ``bwrap``
(Debian package ``bubblewrap``):

- the whole file system is mounted read-only (the repo, ``.venv``, the
  home folder); the only writable places are the submission's scratch copy
  and a private, empty ``/tmp``;
- new user, PID, IPC, UTS and network namespaces: the network namespace
  has only loopback (the suites start servers on ``127.0.0.1``), so any
  other address is unreachable; when the run ends or is stopped, the PID
  namespace goes with it, and every process the submission started dies;
- limits: memory per process (``RLIMIT_DATA``: since Linux 4.7 it counts
  every private writable mapping, so a ``bytearray`` of 3 GiB is refused;
  ``RLIMIT_AS`` also counted the address space a browser only reserves,
  and Chromium, which the stage 05 browser test starts, died under it), CPU seconds per
  process (``RLIMIT_CPU``), and the number of processes: a ``pids`` cgroup
  when the grader may create one (needed when it runs as root, whom
  ``RLIMIT_NPROC`` does not bind), else ``RLIMIT_NPROC`` (which counts per
  user namespace since Linux 5.14, so only the sandbox's own processes).

``--cap-drop ALL`` and ``--new-session`` keep the sandboxed code from
regaining privileges or typing into the grader's terminal.
"""

from __future__ import annotations

import contextlib
import os
import resource
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from workbook.stages import REPO

INSTALL_HINT = (
    "install it with: sudo apt-get install bubblewrap   "
    "(Debian/Ubuntu; the package is 'bubblewrap')"
)
CGROUP_ROOTS = (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup"))


class SandboxUnavailable(Exception):
    """bwrap is missing or cannot create its namespaces here.

    The message says why and what to do.
    """


@dataclass(frozen=True)
class Limits:
    """Per-submission limits. Memory and CPU apply per process; ``processes`` to the sandbox."""

    memory_bytes: int = 2 * 1024**3
    cpu_seconds: int = 600
    processes: int = 128


def bwrap_path() -> str:
    """Return the bwrap executable, or raise SandboxUnavailable with the install command."""
    found = shutil.which("bwrap")
    if not found:
        raise SandboxUnavailable(
            f"the sandbox needs bubblewrap ('bwrap'), which is not installed; "
            f"{INSTALL_HINT}; or grade without it: --no-sandbox"
        )
    return found


def base_argv(bwrap: str) -> list[str]:
    return [
        bwrap,
        "--die-with-parent",
        "--new-session",
        "--cap-drop",
        "ALL",
        "--unshare-user",
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-net",
        "--ro-bind",
        "/",
        "/",
        "--dev",
        "/dev",
        "--proc",
        "/proc",
        "--tmpfs",
        "/tmp",
    ]


def hidden_by_private_tmp() -> list[Path]:
    """Return the repo, venv and Python folders that lie under /tmp.

    The sandbox mounts a /tmp of its own over them.
    """
    tmp = Path("/tmp").resolve()
    needed = {
        REPO.resolve(),
        Path(sys.prefix).resolve(),
        Path(sys.base_prefix).resolve(),
        Path(sys.executable).resolve().parent,
    }
    found = sorted(path for path in needed if path == tmp or tmp in path.parents)
    # Keep only the outermost folders: binding /tmp/ci covers /tmp/ci/.venv.
    return [path for path in found if not any(other in path.parents for other in found)]


def wrap(
    command: Sequence[str],
    *,
    writable: Sequence[Path],
    cwd: Path,
    limits: Limits,
    bwrap: str | None = None,
) -> list[str]:
    """Return ``command`` run by bwrap with only ``writable`` (and a private /tmp) writable.

    Inside the sandbox, ``prlimit`` sets ``RLIMIT_NPROC``: set there, in the
    new user namespace, it counts only the sandbox's processes (set outside,
    it would count every process of the user and could stop bwrap itself).
    """
    argv = base_argv(bwrap or bwrap_path())
    # The private /tmp hides whatever lay under /tmp outside: a checkout (or a
    # venv, or a Python) that lives there is bound back, read-only, on top of it.
    for path in hidden_by_private_tmp():
        argv += ["--ro-bind", str(path), str(path)]
    for path in writable:
        argv += ["--bind", str(path), str(path)]
    argv += ["--chdir", str(cwd), "--"]
    prlimit = shutil.which("prlimit")
    if prlimit:
        argv += [prlimit, f"--nproc={limits.processes}:{limits.processes}", "--"]
    return [*argv, *command]


_checked: str | None = None


def check(bwrap: str | None = None) -> str:
    """Make sure bwrap can build the sandbox here; return its path or raise SandboxUnavailable.

    The first call starts one tiny sandbox; the answer is kept for the process.
    """
    global _checked
    if _checked is not None:
        return _checked
    bwrap = bwrap or bwrap_path()
    try:
        probe = subprocess.run(
            [*base_argv(bwrap), "--", "true"],
            capture_output=True,
            text=True,
            timeout=30,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise SandboxUnavailable(f"bwrap could not be started: {error}") from None
    if probe.returncode != 0:
        raise SandboxUnavailable(namespace_problem(probe.stderr.strip()))
    _checked = bwrap
    return bwrap


def read_setting(path: str) -> str | None:
    with contextlib.suppress(OSError):
        return Path(path).read_text().strip()
    return None


def namespace_problem(message: str) -> str:
    """Explain why bwrap could not create its namespaces, from the kernel's settings."""
    causes = []
    if read_setting("/proc/sys/kernel/unprivileged_userns_clone") == "0":
        causes.append(
            "the kernel forbids user namespaces to unprivileged users "
            "(kernel.unprivileged_userns_clone = 0; "
            "sudo sysctl -w kernel.unprivileged_userns_clone=1)"
        )
    if read_setting("/proc/sys/user/max_user_namespaces") == "0":
        causes.append(
            "user namespaces are switched off (user.max_user_namespaces = 0; "
            "sudo sysctl -w user.max_user_namespaces=15000)"
        )
    if read_setting("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == "1":
        causes.append(
            "AppArmor restricts unprivileged user namespaces "
            "(kernel.apparmor_restrict_unprivileged_userns = 1; Ubuntu 23.10+: "
            "allow bwrap with an AppArmor profile, or set it to 0)"
        )
    if Path("/.dockerenv").exists() or "container" in os.environ:
        causes.append(
            "this is a container, whose seccomp profile may block unshare(); "
            "run the container with --security-opt seccomp=unconfined, or grade on the host"
        )
    cause = "; ".join(causes) or "no known kernel setting explains it"
    return (
        f"bwrap cannot create the sandbox's namespaces here: {message or 'no message'}. "
        f"Likely cause: {cause}. To grade without the sandbox (trusted code only): --no-sandbox"
    )


class ProcessCap:
    """A ``pids`` cgroup that caps how many processes one sandbox may hold, if one can be made."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.path: Path | None = None
        for root in CGROUP_ROOTS:
            controllers = root / "cgroup.controllers"
            if root.name != "pids" and not (
                controllers.exists() and "pids" in controllers.read_text()
            ):
                continue
            path = root / f"wire-up-grade-{secrets.token_hex(6)}"
            try:
                path.mkdir()
                (path / "pids.max").write_text(str(limit))
            except OSError:
                with contextlib.suppress(OSError):
                    path.rmdir()
                continue
            self.path = path
            break

    def join(self) -> None:
        """Move the calling process into the cgroup (called in the child before exec)."""
        if self.path is not None:
            (self.path / "cgroup.procs").write_text(str(os.getpid()))

    def hits(self) -> int:
        """Return how many times a fork was refused because the cap was reached."""
        if self.path is None:
            return 0
        with contextlib.suppress(OSError, ValueError):
            for line in (self.path / "pids.events").read_text().splitlines():
                name, _, value = line.partition(" ")
                if name == "max":
                    return int(value)
        return 0

    def close(self) -> None:
        """Kill whatever is left in the cgroup and remove it."""
        if self.path is None:
            return
        for _ in range(50):
            with contextlib.suppress(OSError):
                pids = [int(pid) for pid in (self.path / "cgroup.procs").read_text().split()]
                if not pids:
                    break
                for pid in pids:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, 9)
            with contextlib.suppress(OSError):
                self.path.rmdir()
                return
            import time

            time.sleep(0.05)
        with contextlib.suppress(OSError):
            self.path.rmdir()


class Applied:
    """The limits of one sandboxed run: ``preexec`` applies them; ``events()`` says which bit."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.cap = ProcessCap(limits.processes)

    def preexec(self) -> None:
        self.cap.join()
        memory = (self.limits.memory_bytes, self.limits.memory_bytes)
        resource.setrlimit(resource.RLIMIT_DATA, memory)  # not RLIMIT_AS: see the docstring
        resource.setrlimit(resource.RLIMIT_CPU, (self.limits.cpu_seconds, self.limits.cpu_seconds))
        os.nice(5)

    def events(self) -> list[str]:
        """Return what the sandbox had to stop, in words for the report."""
        hits = self.cap.hits()
        if hits:
            return [
                f"the sandbox refused {hits} new process(es): the submission reached its "
                f"limit of {self.limits.processes} processes (a fork without end?)"
            ]
        return []


@contextlib.contextmanager
def applied(limits: Limits) -> Iterator[Applied]:
    """Yield the limits ready to apply in the child; remove the cgroup afterwards."""
    state = Applied(limits)
    try:
        yield state
    finally:
        state.cap.close()
