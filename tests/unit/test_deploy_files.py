"""The deploy examples work as written: the systemd units pass `systemd-analyze verify` and
rate "OK" in `systemd-analyze security`, their commands are real `wagate` commands, and the
Caddy and nginx configurations pass their own checkers. A checker that is not installed skips
its test (Debian: systemd, caddy, nginx-light)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from wagate.cli.main import app

ROOT = Path(__file__).parent.parent.parent
UNITS = sorted((ROOT / "deploy" / "systemd").glob("*.service"))
INSTALLED_WAGATE = "/opt/wagate/.venv/bin/wagate"
# systemd-analyze security's scale: 0 (locked down) … 10 (exposed); "OK" is below 2.
MAX_EXPOSURE = 2.0


def exec_start(unit: Path) -> list[str]:
    line = next(x for x in unit.read_text().splitlines() if x.startswith("ExecStart="))
    return line.removeprefix("ExecStart=").split()


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_the_units_command_is_a_wagate_command_with_valid_options(unit: Path) -> None:
    program, *args = exec_start(unit)
    assert program == INSTALLED_WAGATE
    group = typer.main.get_command(app)
    context = group.context_class(group, info_name="wagate")
    command = group.get_command(context, args[0])
    assert command is not None, args[0]
    command.make_context(args[0], args[1:], parent=context)  # raises on an unknown option


def test_the_two_units_are_a_web_process_without_worker_and_a_worker() -> None:
    commands = {unit.name: exec_start(unit)[1:] for unit in UNITS}
    assert commands["wagate-web.service"][:2] == ["serve", "--no-worker"]
    assert commands["wagate-worker.service"] == ["worker"]


SYSTEMD_ANALYZE = shutil.which("systemd-analyze")


@pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="systemd-analyze is not installed")
@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_systemd_accepts_the_unit_and_rates_it_locked_down(unit: Path, tmp_path: Path) -> None:
    assert SYSTEMD_ANALYZE is not None
    # verify checks that the program exists: point it at this checkout's wagate.
    local = tmp_path / unit.name
    wagate = Path(sys.executable).parent / "wagate"
    local.write_text(unit.read_text().replace(INSTALLED_WAGATE, str(wagate)))
    verified = subprocess.run(
        [SYSTEMD_ANALYZE, "verify", str(local)], capture_output=True, text=True, timeout=60
    )
    assert verified.returncode == 0, verified.stderr
    assert verified.stderr.strip() == "", verified.stderr
    security = subprocess.run(
        [SYSTEMD_ANALYZE, "security", "--offline=yes", "--no-pager", str(local)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert security.returncode == 0, security.stderr
    match = re.search(r"Overall exposure level for \S+: ([0-9.]+)", security.stdout)
    assert match is not None, security.stdout[-500:]
    assert float(match.group(1)) < MAX_EXPOSURE


CADDY = shutil.which("caddy")
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


@pytest.mark.skipif(CADDY is None, reason="caddy is not installed")
def test_caddy_accepts_the_caddyfile(tmp_path: Path) -> None:
    assert CADDY is not None
    checked = subprocess.run(
        [CADDY, "validate", "--adapter", "caddyfile", "--config", "Caddyfile"],
        cwd=ROOT / "deploy" / "caddy",
        capture_output=True,
        text=True,
        timeout=60,
        env={"HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert checked.returncode == 0, checked.stderr[-2000:]
    assert "Valid configuration" in checked.stdout + checked.stderr


@pytest.mark.skipif(NGINX is None, reason="nginx is not installed")
def test_nginx_accepts_the_site(tmp_path: Path) -> None:
    assert NGINX is not None
    site = (ROOT / "deploy" / "nginx" / "wagate.conf").read_text()
    certificate, key = make_certificate(tmp_path)
    site = site.replace("/etc/letsencrypt/live/wa.example.co.id/fullchain.pem", str(certificate))
    site = site.replace("/etc/letsencrypt/live/wa.example.co.id/privkey.pem", str(key))
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{ access_log off; include {tmp_path}/site.conf; }}\n"
    )
    checked = subprocess.run(
        [NGINX, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert checked.returncode == 0, checked.stderr
    assert "test is successful" in checked.stderr


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A throwaway self-signed certificate: nginx -t loads the files it names."""
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "wa.example.co.id")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    certificate_path, key_path = directory / "cert.pem", directory / "key.pem"
    certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return certificate_path, key_path
