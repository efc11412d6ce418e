"""A private, throwaway PostgreSQL cluster: `initdb` into a temporary folder, `pg_ctl start` on a free port.

The parity and publication tests start one and remove it afterwards; it is also the quickest way to try the
postgres target by hand:

    python -m tests.support.pg_cluster        # starts one, prints the HQD_PG_* settings, stops on Enter

It needs the PostgreSQL server binaries (Debian/Ubuntu package `postgresql`: /usr/lib/postgresql/<v>/bin).
PostgreSQL refuses to run as root, so under root the cluster runs as the `postgres` system user.
"""

import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from hqd.engines import PostgresConnection


class PostgresUnavailable(RuntimeError):
    """The server binaries or an unprivileged user to run them are missing; the message says which."""


def server_bin_dir() -> Path:
    """The folder holding initdb and pg_ctl: HQD_PG_BIN, then PATH, then the newest Debian layout."""
    candidates = []
    if os.environ.get("HQD_PG_BIN"):
        candidates.append(Path(os.environ["HQD_PG_BIN"]))
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).parent)
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name), reverse=True)
    for folder in candidates:
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    raise PostgresUnavailable(
        "PostgreSQL server binaries (initdb, pg_ctl) not found: install the `postgresql` package, "
        "or set HQD_PG_BIN to the folder that holds them"
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class PostgresCluster:
    root: Path
    port: int
    run_as: str | None
    bin_dir: Path
    superuser: str = "postgres"
    database: str = "hqd"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def connection(self, user: str | None = None) -> PostgresConnection:
        return PostgresConnection(
            host="127.0.0.1", port=self.port, user=user or self.superuser, password="", dbname=self.database
        )

    def _command(self, program: str, *args: str) -> list[str]:
        command = [str(self.bin_dir / program), *args]
        return ["runuser", "-u", self.run_as, "--", *command] if self.run_as else command

    def _run(self, program: str, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(self._command(program, *args), check=True, capture_output=True, text=True)

    @classmethod
    def start(cls, database: str = "hqd") -> "PostgresCluster":
        bin_dir = server_bin_dir()
        run_as = None
        root = Path(tempfile.mkdtemp(prefix="hqd-pg-"))
        if os.geteuid() == 0:
            try:
                account = pwd.getpwnam("postgres")
            except KeyError as missing:
                shutil.rmtree(root, ignore_errors=True)
                raise PostgresUnavailable(
                    "running as root and no `postgres` system user to run the server"
                ) from missing
            run_as = "postgres"
            os.chown(root, account.pw_uid, account.pw_gid)
        cluster = cls(root=root, port=free_port(), run_as=run_as, bin_dir=bin_dir, database=database)
        try:
            cluster._run(
                "initdb", "-D", str(cluster.data_dir), "-U", cluster.superuser, "--auth=trust", "-E", "UTF8",
                "--locale=C.UTF-8",
            )  # fmt: skip
            cluster._run(
                "pg_ctl", "-D", str(cluster.data_dir), "-l", str(root / "server.log"), "-w", "-t", "60",
                "-o", f"-p {cluster.port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off",
                "start",
            )  # fmt: skip
            cluster._wait_ready()
            con = cluster.connect(dbname="postgres")
            try:
                con.autocommit = True  # CREATE DATABASE cannot run in a transaction
                with con.cursor() as cur:
                    cur.execute(f"create database \"{database}\" encoding 'UTF8'")
            finally:
                con.close()
        except subprocess.CalledProcessError as failed:
            log = (root / "server.log").read_text(errors="replace") if (root / "server.log").exists() else ""
            cluster.stop()
            raise PostgresUnavailable(
                f"{' '.join(failed.cmd)} failed: {failed.stderr.strip()} {log[-500:]}"
            ) from failed
        return cluster

    def connect(self, dbname: str | None = None, user: str | None = None):
        import psycopg2

        return psycopg2.connect(
            host="127.0.0.1", port=self.port, user=user or self.superuser, dbname=dbname or self.database
        )

    def _wait_ready(self, seconds: float = 30) -> None:
        import psycopg2

        deadline = time.monotonic() + seconds
        while True:
            try:
                self.connect(dbname="postgres").close()
                return
            except psycopg2.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def stop(self) -> None:
        if self.data_dir.exists():
            # no check: a cluster that never started has nothing to stop, and its folder goes either way
            stop = self._command("pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "-w", "stop")
            subprocess.run(stop, capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)


def main() -> int:
    cluster = PostgresCluster.start()
    try:
        for key, value in cluster.connection().env().items():
            print(f"export {key}={value}")
        input("PostgreSQL is running; press Enter to stop it and remove its files. ")
    finally:
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
