"""The Kubernetes manifests in deploy/kubernetes: each overlay rendered by Kustomize (`kubectl kustomize`, offline) and
every object validated against the Kubernetes API's schemas (kubernetes-validate ships them; nothing is fetched). The
probes, the port, the settings and the secrets are checked against what the portal really reads: its routes, the
names app/config.py and app/gunicorn_conf.py read, SECRET_VARIABLES, and Settings.from_env run on the rendered env."""

from __future__ import annotations

import ast
import base64
import re
import shutil
import subprocess
import tomllib
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
import yaml

from app import cli, gunicorn_conf
from app.config import CREDENTIAL_VARIABLES, SECRET_VARIABLES, Settings
from app.store import database_url
from tests.helpers.ci import unavailable

from .helpers.servers import REPO

KUBERNETES = REPO / "deploy" / "kubernetes"
OVERLAYS = sorted(path.parent for path in (KUBERNETES / "overlays").glob("*/kustomization.yaml"))
# The oldest API the manifests promise to fit, and the newest the installed schemas know.
VERSIONS = ("1.29", kubernetes_validate.utils.latest_version())
FIRST = "aep-source-wizard/apply-first"
# Resident memory per gevent worker: the goal in docs/benchmarks.md (60 MiB measured); the master counts as one more.
MIB_PER_WORKER = 64


def kubectl() -> str:
    found = shutil.which("kubectl")
    if not found:
        unavailable("kubectl not found: its `kubectl kustomize` renders the overlays")
    return found


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, list[dict]]:
    """Each kustomization (the base and every overlay) built in a copy of deploy/kubernetes whose secrets/ folders
    are filled from secrets.example/, as a team does before the first apply."""
    binary = kubectl()
    copy = tmp_path_factory.mktemp("kubernetes") / "kubernetes"
    shutil.copytree(KUBERNETES, copy, ignore=shutil.ignore_patterns("secrets"))
    for example in copy.glob("overlays/*/secrets.example"):
        shutil.copytree(example, example.parent / "secrets")
    builds = {}
    for folder in [KUBERNETES / "base", *OVERLAYS]:
        where = copy / folder.relative_to(KUBERNETES)
        result = subprocess.run(
            [binary, "kustomize", str(where)], capture_output=True, text=True, timeout=60, check=False
        )
        assert result.returncode == 0, result.stderr
        builds[str(folder.relative_to(KUBERNETES))] = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    return builds


def overlays(rendered) -> list[tuple[str, list[dict]]]:
    assert OVERLAYS, "no overlay under deploy/kubernetes/overlays"
    return [(name, objects) for name, objects in rendered.items() if name != "base"]


def one(objects: list[dict], kind: str, name: str | None = None) -> dict:
    found = [o for o in objects if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)]
    assert len(found) == 1, (kind, name, [o["metadata"]["name"] for o in found])
    return found[0]


def pod(objects: list[dict], kind: str) -> dict:
    return one(objects, kind)["spec"]["template"]["spec"]


def generated(objects: list[dict], kind: str, name: str) -> dict:
    """A ConfigMap or Secret by the name the manifests use, wherever Kustomize added a hash to it."""
    return one(
        [
            o
            for o in objects
            if o["kind"] == kind and re.fullmatch(re.escape(name) + r"(-[a-z0-9]{10})?", o["metadata"]["name"])
        ],
        kind,
    )


def secret_value(objects: list[dict], name: str, key: str) -> str:
    secret = one(objects, "Secret", name)
    if key in secret.get("stringData", {}):
        return secret["stringData"][key]
    return base64.b64decode(secret["data"][key]).decode()


def variables_the_portal_reads() -> set[str]:
    """Every environment variable named in app/config.py and app/gunicorn_conf.py: `env.get("NAME")`,
    `env["NAME"]`, `os.environ.get("NAME")`, `_count("NAME")`, any string that is a whole AEP_/WIZARD_ name, and the
    credential and secret names (with _FILE)."""
    names = set(CREDENTIAL_VARIABLES) | set(SECRET_VARIABLES) | {f"{name}_FILE" for name in SECRET_VARIABLES}
    for module in ("config.py", "gunicorn_conf.py"):
        for node in ast.walk(ast.parse((REPO / "app" / module).read_text(encoding="utf-8"))):
            argument = None
            if (
                isinstance(node, ast.Call)
                and node.args
                and (
                    isinstance(node.func, ast.Attribute)
                    and node.func.attr == "get"
                    or isinstance(node.func, ast.Name)
                    and node.func.id == "_count"
                )
            ):
                argument = node.args[0]
            elif isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == "env":
                argument = node.slice
            elif (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and re.fullmatch(r"(AEP|WIZARD)_[A-Z0-9_]+", node.value)
            ):
                argument = node  # a name read in a loop over names (AEP_PLATFORM_URL, AEP_IMS_URL)
            if (
                isinstance(argument, ast.Constant)
                and isinstance(argument.value, str)
                and re.fullmatch(r"[A-Z][A-Z0-9_]+", argument.value)
            ):
                names.add(argument.value)
    assert len(names) > 20, names  # the scan found the settings, not nothing
    return names


def environment(objects: list[dict], container: dict) -> dict[str, dict]:
    """What the container's environment holds: name -> {"value": ...} or {"secret": (name, key)}."""
    env: dict[str, dict] = {}
    for source in container.get("envFrom", []):
        config = one(objects, "ConfigMap", source["configMapRef"]["name"])
        env.update({name: {"value": value} for name, value in config["data"].items()})
    for entry in container.get("env", []):
        if "value" in entry:
            env[entry["name"]] = {"value": entry["value"]}
        else:
            reference = entry["valueFrom"]["secretKeyRef"]
            env[entry["name"]] = {"secret": (reference["name"], reference["key"])}
    return env


def file_in_secret(objects: list[dict], spec: dict, container: dict, path: str) -> tuple[str, str]:
    """(Secret, key) whose value the container sees at `path`, through a Secret volume it mounts."""
    for mount in container["volumeMounts"]:
        relative = (
            PurePosixPath(path).relative_to(mount["mountPath"]) if path.startswith(mount["mountPath"] + "/") else None
        )
        volume = next(v for v in spec["volumes"] if v["name"] == mount["name"])
        if relative is not None and "secret" in volume:
            assert mount.get("readOnly") is True, mount
            secret = one(objects, "Secret", volume["secret"]["secretName"])
            assert str(relative) in {**secret.get("data", {}), **secret.get("stringData", {})}, (path, secret)
            return secret["metadata"]["name"], str(relative)
    raise AssertionError(f"{path} is in no Secret the container mounts")


def settings_from(objects: list[dict], spec: dict, container: dict, folder: Path) -> Settings:
    """Settings.from_env on the rendered environment, each secret file written where the test can read it."""
    env = {}
    for name, source in environment(objects, container).items():
        if "secret" in source:
            env[name] = secret_value(objects, *source["secret"])
        elif name.endswith("_FILE"):
            secret, key = file_in_secret(objects, spec, container, source["value"])
            (folder / key).write_text(secret_value(objects, secret, key), encoding="utf-8")
            env[name] = str(folder / key)
        else:
            env[name] = source["value"]
    return Settings.from_env(env)


def dockerfile_user() -> int:
    users = re.findall(r"^USER\s+(\d+)\s*$", (REPO / "Dockerfile").read_text(encoding="utf-8"), re.MULTILINE)
    assert users, "the Dockerfile names its user by number"
    return int(users[-1])


def test_every_manifest_is_in_its_kustomization():
    for folder in [KUBERNETES / "base", *OVERLAYS]:
        listed = set(yaml.safe_load((folder / "kustomization.yaml").read_text(encoding="utf-8"))["resources"])
        files = {p.name for p in folder.glob("*.yaml")} - {"kustomization.yaml"}
        assert files <= listed, files - listed


def test_every_object_fits_the_kubernetes_api(rendered):
    for name, objects in rendered.items():
        assert objects, name
        for version in VERSIONS:
            for obj in objects:
                try:
                    kubernetes_validate.validate(obj, version, strict=True)
                except kubernetes_validate.ValidationError as error:
                    pytest.fail(
                        f"{name}: {obj['kind']}/{obj['metadata']['name']} at {list(error.path)} for "
                        f"Kubernetes {version}: {error.message}"
                    )
    # The checker itself refuses what the API would: a field that does not exist, a wrong type.
    deployment = one(rendered["base"], "Deployment")
    for broken in (
        {**deployment, "spec": {**deployment["spec"], "replicas": "two"}},
        {**deployment, "spec": {**deployment["spec"], "replica": 2}},
    ):
        with pytest.raises(kubernetes_validate.ValidationError):
            kubernetes_validate.validate(broken, VERSIONS[0], strict=True)


def test_the_settings_are_the_ones_the_portal_reads_and_start_it(rendered, tmp_path):
    read = variables_the_portal_reads()
    for name, objects in overlays(rendered):
        for kind in ("Deployment", "Job"):
            spec = pod(objects, kind)
            (container,) = spec["containers"]
            env = environment(objects, container)
            assert set(env) <= read, f"{name} {kind} sets what the portal never reads: {set(env) - read}"
            folder = tmp_path / name.replace("/", "-") / kind
            folder.mkdir(parents=True)
            settings = settings_from(objects, spec, container, folder)
            assert not settings.emulator and settings.auth != "none", (name, kind)
            assert settings.host == "0.0.0.0" and settings.proxy_count >= 1, (name, kind)
            assert settings.database_url, "the replicas share PostgreSQL"
            if kind == "Deployment":
                (http,) = [p for p in container["ports"] if p["name"] == "http"]
                assert http["containerPort"] == settings.port


def test_secrets_are_files_or_secret_references(rendered):
    for name, objects in overlays(rendered):
        for kind in ("Deployment", "Job"):
            spec = pod(objects, kind)
            (container,) = spec["containers"]
            env = environment(objects, container)
            for secret in SECRET_VARIABLES:
                assert secret not in env, f"{secret} as a value; set {secret}_FILE"
                assert f"{secret}_FILE" in env, f"{name} {kind}: {secret}_FILE"
                file_in_secret(objects, spec, container, env[f"{secret}_FILE"]["value"])
            # No _FILE variable for the database URL: it comes from a Secret, never from the ConfigMap.
            assert "secret" in env["WIZARD_DATABASE_URL"]
            for variable, source in env.items():
                if "value" in source:
                    assert not re.search(r"SECRET|PASSWORD|TOKEN", variable) or variable.endswith("_FILE"), variable
                    assert not re.search(r"://[^/@:]+:[^/@]+@", source["value"]), f"{variable} holds a password"
    completed = subprocess.run(
        ["git", "check-ignore", "-q", str(OVERLAYS[0] / "secrets" / "database_url")], cwd=REPO, check=False
    )
    assert completed.returncode == 0, "an overlay's secrets/ must be ignored by git"


def test_the_probes_ask_the_portals_own_routes(rendered, app):
    routes = {rule.endpoint: rule.rule for rule in app.url_map.iter_rules()}
    client = app.test_client()
    assert client.get(routes["health.healthz"]).status_code == 200
    for name, objects in rendered.items():
        (container,) = pod(objects, "Deployment")["containers"]
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        for probe, endpoint in (
            ("startupProbe", "health.healthz"),
            ("livenessProbe", "health.healthz"),
            ("readinessProbe", "health.readyz"),
        ):
            check = container[probe]["httpGet"]
            assert check["path"] == routes[endpoint], (name, probe)
            assert check["port"] in ports or check["port"] in ports.values(), (name, probe)


def test_the_pods_run_locked_down(rendered, tmp_path):
    user = dockerfile_user()
    for name, objects in rendered.items():
        for kind in ("Deployment", "Job"):
            spec = pod(objects, kind)
            assert spec["securityContext"]["runAsNonRoot"] is True and spec["securityContext"]["runAsUser"] == user
            assert spec["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
            assert spec["automountServiceAccountToken"] is False
            (container,) = spec["containers"]
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True and context["allowPrivilegeEscalation"] is False
            assert context["capabilities"]["drop"] == ["ALL"] and context["seccompProfile"]["type"] == "RuntimeDefault"
            assert {"cpu", "memory"} <= set(container["resources"]["requests"]) and {"cpu", "memory"} <= set(
                container["resources"]["limits"]
            ), (name, kind)
            # The only writable place is an emptyDir at /tmp (gunicorn's heartbeat files, tempfile).
            volumes = {v["name"]: v for v in spec["volumes"]}
            writable = {m["mountPath"] for m in container["volumeMounts"] if not m.get("readOnly")}
            assert (
                writable == {"/tmp"}
                and "emptyDir"
                in volumes[next(m["name"] for m in container["volumeMounts"] if m["mountPath"] == "/tmp")]
            )
    # With WIZARD_DATABASE_URL set, the store never makes WIZARD_DATA_DIR: nothing needs the image's volume.
    data_dir = tmp_path / "never-made"
    database_url(str(data_dir), "postgresql://wizard@db:5432/wizard")
    assert not data_dir.exists()


def test_the_portal_has_room_and_time(rendered, monkeypatch):
    for name, objects in rendered.items():
        spec = pod(objects, "Deployment")
        (container,) = spec["containers"]
        settings = generated(objects, "ConfigMap", "aep-source-wizard-settings")["data"]
        monkeypatch.setenv("WEB_CONCURRENCY", settings.get("WEB_CONCURRENCY", ""))
        workers = gunicorn_conf._count("WEB_CONCURRENCY", 1)
        memory = container["resources"]["limits"]["memory"]
        assert memory.endswith("Mi") and int(memory[:-2]) >= (workers + 1) * MIB_PER_WORKER, (name, memory)
        pause = container["lifecycle"]["preStop"]["exec"]["command"]
        assert pause[0] == "sleep"
        assert spec["terminationGracePeriodSeconds"] >= gunicorn_conf.graceful_timeout + int(pause[1]), name
        assert container["startupProbe"]["periodSeconds"] * container["startupProbe"]["failureThreshold"] >= 30
        assert not {"command", "args"} & set(container), "the portal runs the image's CMD, aep-source-wizard"
        ingress = one(objects, "Ingress")["metadata"]["annotations"]
        assert int(ingress["nginx.ingress.kubernetes.io/proxy-read-timeout"]) > gunicorn_conf.timeout
        size = ingress["nginx.ingress.kubernetes.io/proxy-body-size"]
        assert int(size.rstrip("k")) * 1024 == max_content_length(), size


def max_content_length() -> int:
    """The request size the app accepts (Flask's MAX_CONTENT_LENGTH, as app.configure sets it)."""
    from flask import Flask

    from app import configure

    flask = Flask("probe")
    configure(flask, Settings.from_env({}))
    return flask.config["MAX_CONTENT_LENGTH"]


def test_the_migration_job_runs_the_migrate_command_with_the_portals_settings(rendered):
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    for name, objects in rendered.items():
        job = one(objects, "Job")
        spec = job["spec"]["template"]["spec"]
        (container,) = spec["containers"]
        command = container["command"]
        assert scripts[command[0]] == "app.cli:main" and command[1:] == ["migrate"], command
        with pytest.raises(SystemExit) as exited:
            cli.main([*command[1:], "--help"])
        assert exited.value.code == 0, "no such command"
        assert spec["restartPolicy"] == "Never" and job["spec"]["backoffLimit"] >= 1
        (portal,) = pod(objects, "Deployment")["containers"]
        for key in ("image", "env", "envFrom", "volumeMounts"):
            assert container[key] == portal[key], (name, key)
        assert spec["volumes"] == pod(objects, "Deployment")["volumes"]


def test_the_first_apply_holds_everything_the_migration_needs_and_no_portal(rendered):
    for _name, objects in overlays(rendered):
        first = [o for o in objects if o["metadata"].get("labels", {}).get(FIRST) == "true"]
        kinds = {(o["kind"], o["metadata"]["name"]) for o in first}
        assert not {kind for kind, _ in kinds} & {"Deployment", "Service", "Ingress", "PodDisruptionBudget"}, kinds
        job = one(first, "Job")
        spec = job["spec"]["template"]["spec"]
        (container,) = spec["containers"]
        needed = {("ServiceAccount", spec["serviceAccountName"])}
        needed |= {("ConfigMap", s["configMapRef"]["name"]) for s in container["envFrom"]}
        needed |= {("Secret", e["valueFrom"]["secretKeyRef"]["name"]) for e in container["env"] if "valueFrom" in e}
        needed |= {("Secret", v["secret"]["secretName"]) for v in spec["volumes"] if "secret" in v}
        namespace = job["metadata"].get("namespace")
        if namespace and any(o["kind"] == "Namespace" for o in objects):
            needed.add(("Namespace", namespace))
        assert needed <= kinds, needed - kinds
        policies = [o for o in first if o["kind"] == "NetworkPolicy"]
        assert any(selects(p, job["spec"]["template"]) for p in policies), "the migration's NetworkPolicy"


def selects(policy: dict, template: dict) -> bool:
    wanted = policy["spec"]["podSelector"].get("matchLabels", {})
    return wanted.items() <= template["metadata"]["labels"].items()


def test_only_the_ingress_controller_gets_in_and_only_dns_https_and_the_database_get_out(rendered, tmp_path):
    for name, objects in overlays(rendered):
        deployment, job = one(objects, "Deployment"), one(objects, "Job")
        spec = deployment["spec"]["template"]["spec"]
        (container,) = spec["containers"]
        settings = settings_from(objects, spec, container, tmp_path)
        https = {
            urlsplit(url).port or {"https": 443, "http": 80}[urlsplit(url).scheme]
            for url in (settings.platform_url, settings.ims_url, settings.oidc_issuer)
            if url
        }
        database = urlsplit(settings.database_url).port or 5432
        dns = {(53, "UDP"), (53, "TCP")}
        portal = [p for p in objects if p["kind"] == "NetworkPolicy" and selects(p, deployment["spec"]["template"])]
        migration = [p for p in objects if p["kind"] == "NetworkPolicy" and selects(p, job["spec"]["template"])]
        assert len(portal) == 1 and len(migration) == 1, name
        for policy, outbound in (
            (portal[0], dns | {(p, "TCP") for p in https} | {(database, "TCP")}),
            (migration[0], dns | {(database, "TCP")}),
        ):
            assert set(policy["spec"]["policyTypes"]) == {"Ingress", "Egress"}
            allowed = {
                (port["port"], port.get("protocol", "TCP"))
                for rule in policy["spec"]["egress"]
                for port in rule["ports"]
            }
            assert allowed == outbound, (policy["metadata"]["name"], allowed)
        (rule,) = portal[0]["spec"]["ingress"]
        (source,) = rule["from"]
        assert set(source) == {"namespaceSelector"} and source["namespaceSelector"]["matchLabels"], source
        assert [p["port"] for p in rule["ports"]] == ["http"]
        assert not migration[0]["spec"].get("ingress")


def test_the_service_ingress_and_budget_reach_the_portal(rendered):
    for objects in rendered.values():
        deployment = one(objects, "Deployment")
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        job_labels = one(objects, "Job")["spec"]["template"]["metadata"]["labels"]
        assert deployment["spec"]["replicas"] >= 2
        service = one(objects, "Service")
        assert service["spec"]["selector"].items() <= labels.items()
        assert not service["spec"]["selector"].items() <= job_labels.items(), "the Service would reach the Job"
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        assert {p["targetPort"] for p in service["spec"]["ports"]} <= {p["name"] for p in container["ports"]}
        ingress = one(objects, "Ingress")["spec"]
        hosts = {rule["host"] for rule in ingress["rules"]}
        assert hosts <= {host for tls in ingress["tls"] for host in tls["hosts"]}, "every host over TLS"
        for rule in ingress["rules"]:
            for path in rule["http"]["paths"]:
                backend = path["backend"]["service"]
                assert backend["name"] == service["metadata"]["name"]
                assert backend["port"]["name"] in {p["name"] for p in service["spec"]["ports"]}
        budget = one(objects, "PodDisruptionBudget")["spec"]
        assert budget["selector"]["matchLabels"].items() <= labels.items()
        assert 1 <= budget["minAvailable"] < deployment["spec"]["replicas"]
