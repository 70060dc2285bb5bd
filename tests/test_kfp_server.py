"""The KFP test server, driven by the real kfp client: these tests are what lets other tests trust it as a KFP."""

# No `from __future__ import annotations` here: kfp reads component annotations at decoration time and
# takes the string "str" for an artifact type name.

import json
import time
import warnings
from pathlib import Path
from typing import Any

import kfp
import kfp_server_api
import pytest
import requests
import urllib3
from kfp import compiler, dsl, kubernetes
from kfp_server import KfpTestServer, wait_until

WRITE_FIRST = ("import pathlib, sys; pathlib.Path(sys.argv[1], 'first.txt').write_text(sys.argv[2]); "
               "print('first wrote', sys.argv[2])")
WRITE_SECOND = ("import pathlib, sys; d = pathlib.Path(sys.argv[1]); text = (d / 'first.txt').read_text(); "
                "(d / 'second.txt').write_text(text + '+second'); print('second read', text)")


@dsl.container_component
def first_op(out_dir: str, message: str):
    return dsl.ContainerSpec(image="python:3.11", command=["python3", "-c"], args=[WRITE_FIRST, out_dir, message])


@dsl.container_component
def second_op(out_dir: str):
    return dsl.ContainerSpec(image="python:3.11", command=["python3", "-c"], args=[WRITE_SECOND, out_dir])


@dsl.container_component
def fail_op():
    return dsl.ContainerSpec(image="python:3.11", command=["python3", "-c"],
                             args=["import sys; print('boom', file=sys.stderr); sys.exit(3)"])


@dsl.container_component
def sleep_op():
    return dsl.ContainerSpec(image="python:3.11", command=["python3", "-c"],
                             args=["import time; print('sleeping', flush=True); time.sleep(120)"])


@dsl.container_component
def env_op():
    return dsl.ContainerSpec(image="python:3.11", command=["python3", "-c"],
                             args=["import os; print('password=' + os.environ['DB_PASSWORD'])"])


@dsl.container_component
def echo_op(word: str, label: str):
    return dsl.ContainerSpec(image="python:3.11", command=["python3", "-c"], args=[
        "import sys; print(sys.argv[1:])", word, dsl.ConcatPlaceholder(["<", word, ">"]), label,
        dsl.IfPresentPlaceholder(input_name="word", then=["--word", word], else_=["--no-word"])])


@dsl.component(base_image="python:3.11")
def add(a: int, b: int) -> int:
    return a + b


@dsl.component(base_image="python:3.11")
def save(x: int, out: dsl.Output[dsl.Dataset]):
    with open(out.path, "w") as handle:
        handle.write(f"sum={x}")


@dsl.pipeline(name="two-steps")
def two_steps(out_dir: str, message: str = "hello"):
    first = first_op(out_dir=out_dir, message=message)
    second_op(out_dir=out_dir).after(first)


@dsl.pipeline(name="fails")
def fails(out_dir: str):
    second_op(out_dir=out_dir).after(fail_op())


@dsl.pipeline(name="sleeps")
def sleeps():
    sleep_op()


@dsl.pipeline(name="uses-secret")
def uses_secret():
    task = env_op()
    kubernetes.use_secret_as_env(task, secret_name="db-creds", secret_key_to_env={"password": "DB_PASSWORD"})


@dsl.pipeline(name="placeholders")
def placeholders(word: str = "w"):
    echo_op(word=word, label=dsl.PIPELINE_JOB_NAME_PLACEHOLDER)
    echo_op(word="const", label=dsl.PIPELINE_TASK_NAME_PLACEHOLDER)


@dsl.pipeline(name="lightweight")
def lightweight(a: int = 1):
    save(x=add(a=a, b=2).output)


@dsl.container_component
def fields_op():
    return dsl.ContainerSpec(image="python:3.11", command=["python3", "-c"],
                             args=["import os; print('run', os.environ['RUN_ID'], 'team', os.environ['TEAM'])"])


@dsl.pipeline(name="pod-fields")
def pod_fields():
    task = fields_op()
    kubernetes.add_pod_label(task, "team", "ml")
    kubernetes.use_field_path_as_env(task, "RUN_ID", "metadata.labels['pipeline/runid']")
    kubernetes.use_field_path_as_env(task, "TEAM", "metadata.labels['team']")
    kubernetes.use_field_path_as_env(task, "NOT_THERE", "metadata.annotations['missing']")


def compile_to(tmp_path: Path, pipeline: Any) -> str:
    path = tmp_path / f"{pipeline.name}.yaml"
    compiler.Compiler().compile(pipeline, str(path))
    return str(path)


def client(server: KfpTestServer, **kwargs: Any) -> kfp.Client:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # "This client only works with Kubeflow Pipeline v2.0.0-beta.2"
        return kfp.Client(host=kwargs.pop("host", server.endpoint), **kwargs)


def poll_run(api: kfp.Client, run_id: str, states: set[str], timeout: float = 30) -> kfp_server_api.V2beta1Run:
    """Poll get_run like a caller must (kfp's wait_for_run_completion never returns for CANCELED)."""
    deadline = time.monotonic() + timeout
    while True:
        run = api.get_run(run_id)
        if run.state in states or time.monotonic() > deadline:
            return run
        time.sleep(0.1)


def finish(api: kfp.Client, run_id: str) -> kfp_server_api.V2beta1Run:
    """wait_for_run_completion, polling faster than its 5 s default (RunPipelineResult's wait cannot be told)."""
    return api.wait_for_run_completion(run_id, timeout=60, sleep_duration=0.1)


def tasks_of(run: kfp_server_api.V2beta1Run) -> dict[str, str]:
    return {t.display_name: t.state for t in run.run_details.task_details or []}


def test_healthz_and_empty_lists(kfp_server: KfpTestServer) -> None:
    api = client(kfp_server)
    assert api.get_kfp_healthz().multi_user is None  # false is unpopulated, like the real gateway
    listed = api.list_experiments()
    assert listed.experiments is None and listed.total_size is None
    assert api.get_pipeline_id("nothing") is None
    assert requests.get(kfp_server.url + "/apis/v2beta1/healthz", timeout=5).json() == {"pipeline_store": "database"}


def test_experiment_create_is_idempotent_via_lookup(kfp_server: KfpTestServer) -> None:
    api = client(kfp_server, host=kfp_server.url)  # also served without the /pipeline prefix
    first = api.create_experiment("team-exp", description="d")
    again = api.create_experiment("team-exp")
    assert first.experiment_id == again.experiment_id
    assert api.get_experiment(experiment_name="team-exp").experiment_id == first.experiment_id
    assert api.list_experiments().total_size == 1
    sent = [json.loads(r.query["filter"][0]) for r in kfp_server.requests
            if r.operation == "list_experiments" and "filter" in r.query]
    assert sent[0]["predicates"][0] == {"operation": 1, "key": "display_name", "stringValue": "team-exp"}
    with pytest.raises(kfp_server_api.ApiException) as raised:  # a direct duplicate create is refused
        api._experiment_api.experiment_service_create_experiment(
            kfp_server_api.V2beta1Experiment(display_name="team-exp"))
    assert raised.value.status == 409


def test_upload_version_and_run_both_ways(kfp_server: KfpTestServer, tmp_path: Path) -> None:
    api = client(kfp_server)
    package = compile_to(tmp_path, two_steps)
    pipeline = api.upload_pipeline(package, pipeline_name="two-steps", description="demo")
    assert api.get_pipeline_id("two-steps") == pipeline.pipeline_id
    assert api.get_pipeline(pipeline.pipeline_id).description == "demo"
    version = api.upload_pipeline_version(package, "v2", pipeline_name="two-steps")
    versions = api.list_pipeline_versions(pipeline.pipeline_id)
    assert [v.display_name for v in versions.pipeline_versions] == ["two-steps", "v2"]
    assert api.get_pipeline_version(pipeline.pipeline_id, version.pipeline_version_id).pipeline_spec["root"]
    experiment = api.create_experiment("exp")

    out_a = tmp_path / "a"
    out_a.mkdir()
    run = api.run_pipeline(experiment.experiment_id, "by-version", pipeline_id=pipeline.pipeline_id,
                           version_id=version.pipeline_version_id, params={"out_dir": str(out_a), "message": "hi!"})
    assert finish(api, run.run_id).state == "SUCCEEDED"
    assert (out_a / "second.txt").read_text() == "hi!+second"  # the parameter arrived, and second ran after first
    details = api.get_run(run.run_id)
    assert tasks_of(details) == {"first-op": "SUCCEEDED", "second-op": "SUCCEEDED"}
    first, second = sorted(details.run_details.task_details, key=lambda t: t.start_time)
    assert (first.display_name, second.display_name) == ("first-op", "second-op")
    assert first.end_time <= second.start_time
    assert details.pipeline_version_reference.pipeline_version_id == version.pipeline_version_id
    assert kfp_server.task_logs(run.run_id) == {"first-op": "first wrote hi!\n", "second-op": "second read hi!\n"}

    out_b = tmp_path / "b"
    out_b.mkdir()
    result = api.create_run_from_pipeline_package(package, arguments={"out_dir": str(out_b)}, run_name="inline",
                                                  experiment_name="exp")
    assert finish(api, result.run_id).state == "SUCCEEDED"
    assert (out_b / "second.txt").read_text() == "hello+second"  # the default reached the command
    assert api.get_run(result.run_id).experiment_id == experiment.experiment_id
    assert api.list_runs(experiment_id=experiment.experiment_id).total_size == 2


def test_failed_task_skips_dependents(kfp_server: KfpTestServer, tmp_path: Path) -> None:
    api = client(kfp_server)
    result = api.create_run_from_pipeline_package(compile_to(tmp_path, fails), arguments={"out_dir": str(tmp_path)})
    run = finish(api, result.run_id)
    assert run.state == "FAILED"
    assert tasks_of(run) == {"fail-op": "FAILED", "second-op": "SKIPPED"}
    assert "exited with code 3: boom" in run.error.message
    assert kfp_server.runs[result.run_id].tasks["fail-op"].stderr == "boom\n"
    assert not (tmp_path / "second.txt").exists()


def test_terminate_kills_the_running_task(kfp_server: KfpTestServer, tmp_path: Path) -> None:
    api = client(kfp_server)
    result = api.create_run_from_pipeline_package(compile_to(tmp_path, sleeps))
    tasks = kfp_server.runs[result.run_id].tasks
    assert wait_until(lambda: "sleep-op" in tasks and tasks["sleep-op"].process is not None)
    started = time.monotonic()
    api.terminate_run(result.run_id)
    run = poll_run(api, result.run_id, {"CANCELED"})
    assert run.state == "CANCELED" and time.monotonic() - started < 10
    assert tasks_of(run) == {"sleep-op": "CANCELED"}
    assert kfp_server.runs[result.run_id].tasks["sleep-op"].returncode == -9


def test_pending_runs_and_task_deadlines(kfp_server: KfpTestServer, tmp_path: Path) -> None:
    api = client(kfp_server)
    package = compile_to(tmp_path, sleeps)
    kfp_server.start_delay = 10
    result = api.create_run_from_pipeline_package(package)
    assert api.get_run(result.run_id).state == "PENDING"
    api.terminate_run(result.run_id)
    run = poll_run(api, result.run_id, {"CANCELED"})
    assert [s.state for s in run.state_history] == ["PENDING", "CANCELING", "CANCELED"]
    assert run.run_details.task_details is None
    kfp_server.start_delay, kfp_server.task_timeout = 0, 0.5
    run = finish(api, api.create_run_from_pipeline_package(package).run_id)
    assert run.state == "FAILED" and "deadline of 0.5 s" in run.error.message


def test_invalid_upload_is_rejected(kfp_server: KfpTestServer, tmp_path: Path) -> None:
    api = client(kfp_server)
    bad = tmp_path / "bad.yaml"
    bad.write_text("pipelineInfo:\n  name: x\nroot: {}\nnotAField: 1\n")
    with pytest.raises(kfp_server_api.ApiException) as raised:
        api.upload_pipeline(str(bad), pipeline_name="bad")
    assert raised.value.status == 400
    body = json.loads(raised.value.body)
    assert set(body) == {"error_message", "error_details"} and "notAField" in body["error_message"]
    assert api.list_pipelines().pipelines is None


def test_bad_bodies_get_400_in_the_real_error_shape(kfp_server: KfpTestServer) -> None:
    api_url = kfp_server.endpoint + "/apis/v2beta1"
    unknown = requests.post(api_url + "/experiments", json={"display_name": "x", "colour": "red"}, timeout=5)
    assert unknown.status_code == 400
    assert set(unknown.json()) == {"error", "code", "message"} and unknown.json()["code"] == 3
    assert 'unknown field "colour"' in unknown.json()["message"]
    wrong_type = requests.post(api_url + "/runs", json={"display_name": "r", "runtime_config": {"parameters": 1}},
                               timeout=5)
    assert wrong_type.status_code == 400 and "runtime_config.parameters" in wrong_type.json()["message"]
    no_spec = requests.post(api_url + "/runs", json={"display_name": "r", "pipeline_spec": {"root": {}}}, timeout=5)
    assert no_spec.status_code == 400 and "pipelineInfo.name" in no_spec.json()["message"]
    assert requests.get(api_url + "/runs/nope", timeout=5).status_code == 404
    assert kfp_server.experiments == {}


def test_injected_failure(kfp_server: KfpTestServer) -> None:
    api = client(kfp_server)
    kfp_server.fail["create_experiment"] = 500
    with pytest.raises(kfp_server_api.ApiException) as raised:
        api.create_experiment("exp")
    assert raised.value.status == 500 and json.loads(raised.value.body)["code"] == 13
    del kfp_server.fail["create_experiment"]
    assert api.create_experiment("exp").display_name == "exp"


def test_bearer_token_required(kfp_server: KfpTestServer) -> None:
    kfp_server.require_token = "s3cret"
    healthz = kfp_server.endpoint + "/apis/v2beta1/healthz"
    assert requests.get(healthz, timeout=5).status_code == 401
    wrong = requests.get(healthz, headers={"Authorization": "Bearer nope"}, timeout=5)
    assert wrong.status_code == 401 and wrong.json()["message"] == "Jwt verification fails"
    # Without credentials, Client() itself would spend 25 s retrying healthz; a namespace argument skips that call.
    anonymous = client(kfp_server, namespace="anyone")
    with pytest.raises(kfp_server_api.ApiException) as raised:
        anonymous.list_pipelines()
    assert raised.value.status == 401
    api = client(kfp_server, existing_token="s3cret")
    assert api.create_experiment("exp").display_name == "exp"
    assert kfp_server.requests[-1].headers["authorization"] == "Bearer s3cret"


def test_dex_login_flow(kfp_server: KfpTestServer) -> None:
    kfp_server.dex_users = {"user@example.com": "12341234"}
    api_url = kfp_server.endpoint + "/apis/v2beta1/experiments"
    redirect = requests.get(api_url, allow_redirects=False, timeout=5)
    assert redirect.status_code == 302 and redirect.headers["Location"].startswith("/dex/auth?")

    session = requests.Session()
    chooser = session.get(kfp_server.endpoint, timeout=5)  # → /dex/auth?... (two connectors: a chooser page)
    assert chooser.status_code == 200 and chooser.history and "/dex/auth?" in chooser.url
    form = session.get(chooser.url.replace("/auth", "/auth/local", 1), timeout=5)
    assert form.url.split("?")[0].endswith("/dex/auth/local/login") and 'name="password"' in form.text
    wrong = session.post(form.url, data={"login": "user@example.com", "password": "nope"}, timeout=5)
    assert wrong.status_code == 200 and not wrong.history and "Invalid" in wrong.text
    done = session.post(form.url, data={"login": "user@example.com", "password": "12341234"}, timeout=5)
    assert done.status_code == 200 and done.url == kfp_server.endpoint  # back where the user started
    cookie = session.cookies.get("authservice_session")
    assert cookie in kfp_server.sessions

    ldap = requests.get(chooser.url.replace("/auth", "/auth/ldap", 1), timeout=5)
    assert ldap.status_code == 200 and ldap.url.split("?")[0].endswith("/dex/auth/ldap/login")

    api = client(kfp_server, cookies=f"authservice_session={cookie}")
    assert api.create_experiment("exp").display_name == "exp"
    assert requests.get(api_url, cookies={"authservice_session": cookie}, timeout=5).json()["total_size"] == 1
    # Without the cookie the kfp client follows the redirect to the login page, fails to parse its HTML as JSON
    # and returns an empty model: no error, just no experiments.
    assert client(kfp_server, namespace="anyone").list_experiments().experiments is None


def test_hang_makes_the_client_time_out(kfp_server: KfpTestServer) -> None:
    api = client(kfp_server)
    kfp_server.hang["list_experiments"] = 5
    started = time.monotonic()
    # kfp.Client's methods take no timeout; its generated API objects do (`_request_timeout`: an int, or a
    # (connect, read) tuple; a float alone is silently ignored). urllib3 retries the GET 3 times before giving up.
    with pytest.raises(urllib3.exceptions.MaxRetryError) as raised:
        api.experiments.experiment_service_list_experiments(_request_timeout=(2, 0.3))
    assert isinstance(raised.value.reason, urllib3.exceptions.ReadTimeoutError)
    assert time.monotonic() - started < 4
    kfp_server.hang["list_experiments"] = 0.2
    assert api.list_experiments().total_size is None


def test_secret_as_env(kfp_server: KfpTestServer, tmp_path: Path) -> None:
    api = client(kfp_server)
    package = compile_to(tmp_path, uses_secret)
    missing = finish(api, api.create_run_from_pipeline_package(package).run_id)
    assert missing.state == "FAILED" and 'secret "db-creds" not found' in missing.error.message

    kfp_server.secrets["db-creds"] = {"password": "hunter2"}
    result = api.create_run_from_pipeline_package(package)
    assert finish(api, result.run_id).state == "SUCCEEDED"
    assert kfp_server.task_logs(result.run_id) == {"env-op": "password=hunter2\n"}
    assert kfp_server.runs[result.run_id].tasks["env-op"].env == {"DB_PASSWORD": "hunter2"}


def test_placeholders(kfp_server: KfpTestServer, tmp_path: Path) -> None:
    api = client(kfp_server)
    result = api.create_run_from_pipeline_package(compile_to(tmp_path, placeholders), arguments={"word": "hey"},
                                                  run_name="my-run")
    assert finish(api, result.run_id).state == "SUCCEEDED"
    tasks = kfp_server.runs[result.run_id].tasks
    assert tasks["echo-op"].argv[3:] == ["hey", "<hey>", "my-run", "--word", "hey"]
    assert tasks["echo-op-2"].argv[3:] == ["const", "<const>", "echo-op-2", "--word", "const"]


def test_multi_user_namespaces(kfp_server: KfpTestServer) -> None:
    kfp_server.multi_user = True
    kfp_server.namespaces = {"team-a"}
    api = client(kfp_server)
    assert api.get_kfp_healthz().multi_user is True
    experiment = api.create_experiment("exp", namespace="team-a")
    assert experiment.namespace == "team-a"
    assert api.list_experiments(namespace="team-a").total_size == 1
    with pytest.raises(kfp_server_api.ApiException) as unknown:
        api.create_experiment("exp", namespace="team-b")
    assert unknown.value.status == 403 and "Namespace:team-b" in json.loads(unknown.value.body)["message"]
    with pytest.raises(kfp_server_api.ApiException) as missing:
        api.list_experiments()
    assert missing.value.status == 400


def test_lightweight_python_components(kfp_server: KfpTestServer, tmp_path: Path) -> None:
    """`@dsl.component` reads the `{{$}}` executor input and writes executor output; its `pip install kfp==...`
    is satisfied offline by the installed kfp."""
    api = client(kfp_server)
    result = api.create_run_from_pipeline_package(compile_to(tmp_path, lightweight), arguments={"a": 5})
    assert finish(api, result.run_id).state == "SUCCEEDED"
    tasks = kfp_server.runs[result.run_id].tasks
    assert tasks["add"].outputs == {"Output": 7}
    assert tasks["save"].artifacts["out"].read_text() == "sum=7"


def test_field_path_env_reads_the_pods_labels(kfp_server: KfpTestServer, tmp_path: Path) -> None:
    """The kubelet's `fieldRef`: the `podMetadata` labels, and `pipeline/runid`, which KFP puts on every pod."""
    api = client(kfp_server)
    result = api.create_run_from_pipeline_package(compile_to(tmp_path, pod_fields))
    assert finish(api, result.run_id).state == "SUCCEEDED"
    assert kfp_server.runs[result.run_id].tasks["fields-op"].env == {"RUN_ID": result.run_id, "TEAM": "ml",
                                                                      "NOT_THERE": ""}
    assert kfp_server.task_logs(result.run_id) == {"fields-op": f"run {result.run_id} team ml\n"}


def test_output_artifacts_are_listed_in_the_run_details(kfp_server: KfpTestServer, tmp_path: Path) -> None:
    api = client(kfp_server)
    result = api.create_run_from_pipeline_package(compile_to(tmp_path, lightweight), arguments={"a": 5})
    details = {task.display_name: task for task in finish(api, result.run_id).run_details.task_details}
    assert details["add"].outputs is None  # a parameter, not an artifact
    assert list(details["save"].outputs) == ["out"] and len(details["save"].outputs["out"].artifact_ids) == 1
    task = kfp_server.runs[result.run_id].tasks["save"]
    assert task.artifact_ids == {"out": details["save"].outputs["out"].artifact_ids[0]}
