"""deploy/kubernetes/: every manifest valid against the Kubernetes API schemas (kubernetes-validate ships
them, so this runs offline), and the promises of docs/operations.md kept: two replicas, probes on
/readyz and /healthz, a migration Job, a Secret template, a PodDisruptionBudget, never root."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from bot.config import ENV_PREFIX
from bot.platforms import registry

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = ROOT / "deploy" / "kubernetes"
# The oldest Kubernetes still supported upstream when this was written, and the newest the validator knows.
VERSIONS = ("1.32.0", kubernetes_validate.latest_version())


def resources() -> dict[str, dict[str, Any]]:
    kustomization = yaml.safe_load((MANIFESTS / "kustomization.yaml").read_text())
    return {name: yaml.safe_load((MANIFESTS / name).read_text()) for name in kustomization["resources"]}


def by_kind() -> dict[str, dict[str, Any]]:
    return {resource["kind"]: resource for resource in resources().values()}


def test_the_kustomization_lists_every_manifest():
    assert set(resources()) == {path.name for path in MANIFESTS.glob("*.yaml")} - {"kustomization.yaml"}


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("name", sorted(resources()))
def test_each_manifest_validates_strictly_against_the_api_schema(name, version):
    kubernetes_validate.validate(resources()[name], version, strict=True)


def _pod(resource: dict[str, Any]) -> dict[str, Any]:
    return dict(resource["spec"]["template"]["spec"])


def test_two_replicas_with_probes_behind_a_disruption_budget():
    kinds = by_kind()
    deployment = kinds["Deployment"]
    assert deployment["spec"]["replicas"] == 2
    (bot,) = _pod(deployment)["containers"]
    assert bot["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert bot["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert bot["args"][0] == "serve"
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    budget = kinds["PodDisruptionBudget"]["spec"]
    assert budget["selector"]["matchLabels"].items() <= labels.items() and budget["minAvailable"] == 1
    assert kinds["Service"]["spec"]["selector"].items() <= labels.items()


def test_the_job_migrates_with_the_same_settings_and_image():
    kinds = by_kind()
    (migrate,) = _pod(kinds["Job"])["containers"]
    (bot,) = _pod(kinds["Deployment"])["containers"]
    assert migrate["args"] == ["db", "upgrade"]
    assert (migrate["image"], migrate["envFrom"], migrate["env"]) == (bot["image"], bot["envFrom"], bot["env"])


@pytest.mark.parametrize("kind", ["Deployment", "Job"])
def test_the_secret_is_mounted_as_files_where_the_settings_look(kind):
    pod = _pod(by_kind()[kind])
    (container,) = pod["containers"]
    directory = {variable["name"]: variable["value"] for variable in container["env"]}["DISTANSMOTE_SECRETS_DIR"]
    (mount,) = [mount for mount in container["volumeMounts"] if mount["mountPath"] == directory]
    (volume,) = [volume for volume in pod["volumes"] if volume["name"] == mount["name"]]
    assert volume["secret"]["secretName"] == by_kind()["Secret"]["metadata"]["name"] and mount["readOnly"]
    # Readable by the group the pod runs in (fsGroup), by no one else.
    assert volume["secret"]["defaultMode"] == 0o440 and pod["securityContext"]["fsGroup"] == 10001


@pytest.mark.parametrize("kind", ["Deployment", "Job"])
def test_pods_never_run_as_root(kind):
    pod = _pod(by_kind()[kind])
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001  # the Dockerfile's user
    for container in pod["containers"]:
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False and context["readOnlyRootFilesystem"] is True
        assert context["capabilities"]["drop"] == ["ALL"]


def test_the_secret_template_and_the_config_map_name_real_settings():
    kinds = by_kind()
    secret, config = kinds["Secret"]["stringData"], kinds["ConfigMap"]["data"]
    for name in [*secret, *config]:
        assert name.startswith(ENV_PREFIX) and name.removeprefix(ENV_PREFIX).lower() in registry.variables(), name
    assert secret["DISTANSMOTE_DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert not set(secret) & set(config)
    # Nothing secret in the config map.
    assert not [name for name in config if name.endswith(("_PASSWORD", "_TOKEN", "_SECRET", "DATABASE_URL"))]
