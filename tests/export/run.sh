#!/usr/bin/env bash
# `formation export` on the targets' own tools and engines (SPEC §8):
#   golden  the static binary's output (file and stderr notes) is the golden files' bytes;
#   compose docker-compose validates every compose file, runs tests/export/cases/run.toml's
#           (every type with its replicas, the right env and PORT, a stop within the graces:
#           formation's own SIGKILL before the engine's), and `docker stack deploy` runs the
#           same file on a single-node swarm with the replica counts of the formation;
#           tests/export/cases/graph.toml's runs the graph keys: the `release` oneshot
#           completes (exit 0) before `web` starts, `web`'s ready check is a healthcheck
#           that turns healthy, `worker` (after web) starts only then, with its dependency
#           scaled to 0 dropped, and the scheduled `cleanup` runs as one scheduler container;
#   kubernetes every object validates with kubernetes-validate (offline schemas: the graph
#           case's Job and CronJob too), and
#           `podman kube play` runs the Deployments: each reaches Running with its replicas
#           and env;
#   fly     every fly.toml parses as TOML (python3 tomllib) with the processes and port,
#           and a release command and checks only for what is not / is a process group.
# Images are built FROM scratch with the static binary and busybox (nothing can be pulled).
# Needs root and a running dockerd; installs docker-compose, podman, catatonit and
# kubernetes-validate when missing. Cleans up everything it started, even on failure; every
# wait is bounded. Ends with "N passed, M failed".
# usage: tests/export/run.sh [path/to/static/formation]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${1:-$root/target/x86_64-unknown-linux-musl/release/formation}
busybox=${BUSYBOX:-/bin/busybox}
tag=formation-export:test
project=formation-export
graph_project=formation-export-graph
stack=formation-export
app=cases # the app name export derives from tests/export/cases/
passed=0
failed=0
ctx=$(mktemp -d)
compose_up= graph_up= stack_up= swarm_started= gwbridge= podman_image= podman_played= conf_saved= pause_image=
containers_conf=/etc/containers/containers.conf

cleanup() {
  [ -n "$compose_up" ] && timeout 60 docker-compose -p "$project" -f "$ctx/run.compose.yaml" down -t 1 >/dev/null 2>&1
  [ -n "$graph_up" ] && timeout 60 docker-compose -p "$graph_project" -f "$ctx/graph.compose.yaml" down -t 1 >/dev/null 2>&1
  if [ -n "$stack_up" ]; then
    timeout 60 docker stack rm "$stack" >/dev/null 2>&1
    wait_for 30 no_stack_containers
  fi
  [ -n "$swarm_started" ] && timeout 60 docker swarm leave --force >/dev/null 2>&1
  [ -n "$gwbridge" ] && docker network rm docker_gwbridge >/dev/null 2>&1
  [ -n "$podman_played" ] && timeout 120 podman kube down "$ctx/play.yaml" >/dev/null 2>&1
  [ -n "$podman_image" ] && timeout 60 podman rmi -f "$tag" >/dev/null 2>&1
  [ -n "$pause_image" ] && timeout 60 podman rmi -f "$pause_image" >/dev/null 2>&1
  case "$conf_saved" in
    none) rm -f "$containers_conf" ;;
    saved) cp "$ctx/containers.conf.orig" "$containers_conf" ;;
  esac
  docker rmi -f "$tag" >/dev/null 2>&1
  rm -rf "$ctx"
}
trap cleanup EXIT

pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); }
need() { command -v "$1" >/dev/null 2>&1; }
# wait_for SECONDS COMMAND [ARGS]: until COMMAND succeeds, at most SECONDS.
wait_for() {
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do
    [ $SECONDS -ge $deadline ] && return 1
    sleep 0.5
  done
}

# ---------------------------------------------------------------- tools
[ "$(id -u)" = 0 ] || { echo "tests/export/run.sh needs root"; exit 1; }
[ -x "$bin" ] || { echo "no static binary at $bin (run scripts/build-static.sh)"; exit 1; }
docker info >/dev/null 2>&1 || { echo "no running dockerd (see .ci/run)"; exit 1; }
missing=()
need docker-compose || missing+=(docker-compose)
need podman || missing+=(podman)
need catatonit || missing+=(catatonit) # podman builds its pause image from it
need python3 || missing+=(python3)
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  { apt-get update -qq && apt-get install -y -qq "${missing[@]}"; } >/dev/null ||
    { echo "FAIL installing ${missing[*]}"; exit 1; }
fi
if ! python3 -m kubernetes_validate --version >/dev/null 2>&1; then
  python3 -m pip --version >/dev/null 2>&1 || apt-get install -y -qq python3-pip >/dev/null
  python3 -m pip install -q kubernetes-validate >/dev/null 2>&1 ||
    python3 -m pip install -q --break-system-packages kubernetes-validate >/dev/null ||
    { echo "FAIL installing kubernetes-validate"; exit 1; }
fi
python3 -c 'import tomllib, yaml' || { echo "FAIL python3 needs tomllib (3.11) and PyYAML"; exit 1; }

# ---------------------------------------------------------------- golden files
# The cases of src/export/golden.rs: name, then the arguments export gets.
cases=(
  "example|-c examples/formation.toml"
  "procfile|-f examples/Procfile -m web=3"
  "full|-c tests/export/cases/full.toml"
  "long-grace|-c tests/export/cases/long-grace.toml"
  "run|-c tests/export/cases/run.toml"
  "graph|-c tests/export/cases/graph.toml"
  "release|-f tests/export/cases/Procfile"
  "secrets|-c tests/export/cases/secrets.toml"
  "overrides|-c tests/export/cases/overrides.toml"
)
golden=$here/golden
for case in "${cases[@]}"; do
  name=${case%%|*}
  read -ra args <<<"${case#*|}"
  for target in compose kubernetes fly; do
    ext=yaml; image=(--image "$tag")
    [ "$target" = fly ] && { ext=toml; image=(); }
    out=$ctx/$name.$target.$ext
    (cd "$root" && "$bin" export "$target" "${args[@]}" "${image[@]}") >"$out" 2>"$ctx/stderr"
    code=$?
    sed "s/^formation: export $target: //" "$ctx/stderr" >"$ctx/notes"
    want_notes=$golden/$name.$target.notes
    [ -f "$want_notes" ] || want_notes=/dev/null
    if [ "$code" = 0 ] && cmp -s "$out" "$golden/$name.$target.$ext" && cmp -s "$ctx/notes" "$want_notes"; then
      pass "golden: export $target ${args[*]}"
    else
      fail "golden: export $target ${args[*]}" "exit $code; $(diff "$golden/$name.$target.$ext" "$out" | head -5) $(diff "$want_notes" "$ctx/notes" | head -3)"
    fi
  done
done

# ---------------------------------------------------------------- compose
for f in "$golden"/*.compose.yaml; do
  # env_file paths are relative to where export ran: the repository's root.
  if docker-compose version --short 2>/dev/null | grep -q '^1\.'; then
    sed '/^ *start_interval:/d' "$f" > "$ctx/validate.yaml"; f_in=$ctx/validate.yaml
  else f_in=$f; fi
  if err=$(cd "$root" && docker-compose --project-directory "$root" -f "$f_in" config -q 2>&1); then
    pass "docker-compose config accepts $(basename "$f")"
  else fail "docker-compose config $(basename "$f")" "$err"; fi
done

mkdir -p "$ctx/image/app/tests/export/cases" "$ctx/image/app/examples"
cp "$bin" "$ctx/image/formation"
cp "$busybox" "$ctx/image/busybox"
cp "$root"/tests/export/cases/* "$ctx/image/app/tests/export/cases/"
cp -r "$root"/examples/* "$ctx/image/app/examples/"
cat >"$ctx/image/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
COPY formation /formation
COPY app /app
WORKDIR /app
ENTRYPOINT ["/formation"]
DOCKERFILE
docker build -q -t "$tag" "$ctx/image" >/dev/null 2>"$ctx/build.log" ||
  { echo "FAIL build of the test image"; cat "$ctx/build.log"; exit 1; }

# The image holds the cases under /app/tests/export/cases: --config-in-image names them there.
in_image() { echo "--config-in-image tests/export/cases/$1"; }
(cd "$root" && "$bin" export compose -c tests/export/cases/run.toml $(in_image run.toml) --image "$tag" -o "$ctx/run.compose.yaml") 2>/dev/null
(cd "$root" && "$bin" export kubernetes -c tests/export/cases/run.toml $(in_image run.toml) --image "$tag" -o "$ctx/run.kubernetes.yaml") 2>/dev/null
(cd "$root" && "$bin" export compose -c tests/export/cases/graph.toml $(in_image graph.toml) --image "$tag" -o "$ctx/graph.compose.yaml") 2>/dev/null
# docker-compose 1.29 (Debian 12's) reads files with a compose schema older than the
# healthcheck's start_interval (compose 2.20.2, Engine 25): it gets the files without it.
if docker-compose version --short 2>/dev/null | grep -q '^1\.'; then
  for f in "$ctx/run.compose.yaml" "$ctx/graph.compose.yaml"; do sed -i '/^ *start_interval:/d' "$f"; done
fi

# running TYPE: how many of the compose project's TYPE containers run.
running() {
  docker ps -q --filter "label=com.docker.compose.project=$project" \
    --filter "label=com.docker.compose.service=$1" --filter status=running | wc -l
}
compose_counts() { [ "$(running web)" = 2 ] && [ "$(running worker)" = 3 ] && [ "$(running stubborn)" = 1 ] && [ "$(running mailer)" = 0 ]; }
containers_of() { docker ps -aq --filter "label=com.docker.compose.project=$project" --filter "label=com.docker.compose.service=$1"; }
# logs_say TYPE TEXT: TYPE has containers, and every one has logged TEXT.
logs_say() {
  local c n=0
  for c in $(containers_of "$1"); do
    docker logs "$c" 2>&1 | grep -qF -- "$2" || return 1
    n=$((n + 1))
  done
  [ "$n" -gt 0 ]
}

compose_up=1
if timeout 120 docker-compose -p "$project" -f "$ctx/run.compose.yaml" up -d >"$ctx/up.log" 2>&1 &&
   wait_for 60 compose_counts; then
  pass "docker-compose up: web 2, worker 3, stubborn 1, mailer 0 running"
else
  fail "docker-compose up" "web $(running web), worker $(running worker), stubborn $(running stubborn), mailer $(running mailer): $(tail -5 "$ctx/up.log")"
fi
if wait_for 30 logs_say web "web.1     | web.1 port=5000 greeting=hello role=frontend" &&
   wait_for 30 logs_say worker "worker.1  | worker.1 port=5100 greeting=hello role=backend" &&
   wait_for 30 logs_say stubborn "ready"; then
  pass "docker-compose: each container runs its one type with [env], the type's env and PORT"
else fail "docker-compose env" "$(for c in $(containers_of web) $(containers_of worker); do docker logs "$c" 2>&1 | tail -2; done)"; fi

timeout 60 docker-compose -p "$project" -f "$ctx/run.compose.yaml" stop >/dev/null 2>&1
# How long each container took from formation's "SIGTERM received" (docker's timestamp of
# that log line) to its exit: the engine's own SIGKILL would come at stop_grace_period.
ms() { date -d "$1" +%s%3N; }
term_ms() { ms "$(docker logs -t "$1" 2>&1 | grep -F "| SIGTERM received; stopping" | head -1 | cut -d' ' -f1)"; }
ok=1 why=
for c in $(containers_of web) $(containers_of worker) $(containers_of stubborn); do
  service=$(docker inspect -f '{{index .Config.Labels "com.docker.compose.service"}}' "$c")
  code=$(docker inspect -f '{{.State.ExitCode}}' "$c")
  took=$(( $(ms "$(docker inspect -f '{{.State.FinishedAt}}' "$c")") - $(term_ms "$c") ))
  case $service in
    # formation's SIGKILL at its 1 s grace, before the engine's at 2 s (docker stamps the
    # log line when it reads it, a little after formation got the signal: hence 900).
    stubborn) want=137 min=900 limit=2000 ;;
    *) want=0 min=-500 limit=3000 ;; # (the log timestamp and FinishedAt may be taken out of order)
  esac
  if [ "$code" != "$want" ] || [ "$took" -lt "$min" ] || [ "$took" -ge "$limit" ]; then
    ok= why="$why $service exit $code after ${took} ms;"
  fi
done
# Docker copies a container's last lines into its log a moment after the exit: wait for it.
stubborn_said_sigkill() { logs_say stubborn "stubborn.1 did not stop within 1s; sending SIGKILL"; }
if [ -n "$ok" ] && wait_for 10 stubborn_said_sigkill; then
  pass "docker-compose stop: everything ended within its grace (stubborn: formation's SIGKILL at 1s, exit 137)"
else fail "docker-compose stop" "${why:-no SIGKILL line from formation}"; fi
timeout 60 docker-compose -p "$project" -f "$ctx/run.compose.yaml" down -t 1 >/dev/null 2>&1 && compose_up=

# logs_of_graph_say TYPE TEXT: TYPE has containers in the graph project, each has logged TEXT.
logs_of_graph_say() {
  local c n=0
  for c in $(graph_of "$1"); do
    docker logs "$c" 2>&1 | grep -qF -- "$2" || return 1
    n=$((n + 1))
  done
  [ "$n" -gt 0 ]
}
# ---------------------------------------------------------------- compose: the graph keys
# graph_of TYPE: the graph project's TYPE containers; graph_running TYPE: how many run.
graph_of() { docker ps -aq --filter "label=com.docker.compose.project=$graph_project" --filter "label=com.docker.compose.service=$1"; }
graph_running() {
  docker ps -q --filter "label=com.docker.compose.project=$graph_project" \
    --filter "label=com.docker.compose.service=$1" --filter status=running | wc -l
}
inspect() { docker inspect -f "$2" "$(graph_of "$1" | head -1)" 2>/dev/null; }
graph_counts() { [ "$(graph_running web)" = 1 ] && [ "$(graph_running worker)" = 2 ] && [ "$(graph_running cleanup)" = 1 ] && [ "$(graph_running mailer)" = 0 ]; }
web_healthy() { [ "$(inspect web '{{.State.Health.Status}}')" = healthy ]; }
graph_up=1
graph_t0=$(date +%s)
# `up` itself waits for the conditions: release exited 0, then web healthy, then the rest.
if timeout 150 docker-compose -p "$graph_project" -f "$ctx/graph.compose.yaml" up -d >"$ctx/graph-up.log" 2>&1 &&
   wait_for 30 graph_counts; then
  pass "docker-compose up (graph): web 1, worker 2, cleanup 1, mailer 0 running"
else
  fail "docker-compose up (graph)" "web $(graph_running web), worker $(graph_running worker), cleanup $(graph_running cleanup): $(tail -5 "$ctx/graph-up.log")"
fi
release_code=$(inspect release '{{.State.ExitCode}}')
release_end=$(inspect release '{{.State.FinishedAt}}')
web_start=$(inspect web '{{.State.StartedAt}}')
if [ "$(inspect release '{{.State.Status}}')" = exited ] && [ "$release_code" = 0 ] &&
   [ -n "$web_start" ] && [ "$(ms "$release_end")" -le "$(ms "$web_start")" ] &&
   docker logs "$(graph_of release)" 2>&1 | grep -qF "release.1 migrated"; then
  pass "docker-compose (graph): release ran to exit 0 before web started (service_completed_successfully)"
else fail "docker-compose (graph) release" "release exit $release_code at $release_end, web started $web_start"; fi
if wait_for 30 web_healthy; then
  pass "docker-compose (graph): web's ready check is a healthcheck (formation probe web) that turns healthy"
else fail "docker-compose (graph) healthcheck" "web is $(inspect web '{{.State.Health.Status}}'): $(inspect web '{{json .State.Health.Log}}' | tail -c 300)"; fi
# worker waited for web's health: it started after docker's event that web turned healthy.
# (The engine's answer to `docker events` came back empty once in several CI runs: ask again.)
web_ok=
for _ in 1 2 3; do
  web_ok=$(timeout 10 docker events --since "$graph_t0" --until "$(date +%s)" \
    --filter "container=$(graph_of web)" --format '{{.TimeNano}} {{.Action}}' 2>/dev/null |
    grep -m1 "health_status: healthy" | cut -d' ' -f1)
  [ -n "$web_ok" ] && break
  sleep 1
done
ok=1
for c in $(graph_of worker); do
  started=$(docker inspect -f '{{.State.StartedAt}}' "$c")
  [ -n "$web_ok" ] && [ "$(ms "$started")" -ge "$((web_ok / 1000000))" ] || ok=
done
if [ -n "$ok" ] && wait_for 30 logs_of_graph_say worker "worker.1 working"; then
  pass "docker-compose (graph): worker started after web was healthy (service_healthy), without its mailer (scaled to 0)"
else fail "docker-compose (graph) worker" "web healthy at ${web_ok:-never} ns; workers: $(for c in $(graph_of worker); do docker inspect -f '{{.State.StartedAt}} {{.State.Status}}' "$c"; done)"; fi
timeout 60 docker-compose -p "$graph_project" -f "$ctx/graph.compose.yaml" down -t 1 >/dev/null 2>&1 && graph_up=

# ---------------------------------------------------------------- swarm
replicas() { docker service ls --filter "label=com.docker.stack.namespace=$stack" --format '{{.Name}} {{.Replicas}}' | sort | tr '\n' ' '; }
want_replicas="$stack""_mailer 0/0 $stack""_stubborn 1/1 $stack""_web 2/2 $stack""_worker 3/3 "
swarm_counts() { [ "$(replicas)" = "$want_replicas" ]; }
no_stack_containers() { [ -z "$(docker ps -aq --filter "label=com.docker.stack.namespace=$stack")" ]; }
state=$(docker info --format '{{.Swarm.LocalNodeState}}')
if [ "$state" = inactive ]; then
  # swarm init creates docker_gwbridge and swarm leave keeps it: ours to remove, if new.
  docker network inspect docker_gwbridge >/dev/null 2>&1 || gwbridge=1
  timeout 60 docker swarm init --advertise-addr 127.0.0.1 >/dev/null 2>&1 && swarm_started=1
fi
if [ "$(docker info --format '{{.Swarm.LocalNodeState}}')" != active ]; then
  fail "docker swarm init" "the node is $(docker info --format '{{.Swarm.LocalNodeState}}')"
else
  stack_up=1
  if timeout 120 docker stack deploy -c "$ctx/run.compose.yaml" "$stack" >"$ctx/stack.log" 2>&1 &&
     wait_for 90 swarm_counts; then
    pass "docker stack deploy: $want_replicas"
  else fail "docker stack deploy" "replicas: $(replicas) $(tail -3 "$ctx/stack.log")"; fi
  timeout 60 docker stack rm "$stack" >/dev/null 2>&1
  if wait_for 30 no_stack_containers; then stack_up=
  else fail "docker stack rm" "containers left after 30 s"; fi
fi
if [ -n "$swarm_started" ]; then
  timeout 60 docker swarm leave --force >/dev/null 2>&1 && swarm_started=
fi

# ---------------------------------------------------------------- kubernetes
for f in "$golden"/*.kubernetes.yaml "$ctx/run.kubernetes.yaml"; do
  if err=$(python3 -m kubernetes_validate --strict --quiet "$f" 2>&1); then
    pass "kubernetes-validate --strict accepts $(basename "$f")"
  else fail "kubernetes-validate $(basename "$f")" "$err"; fi
done

# podman refuses its default nofile limit (1048576) here: cap it at our hard limit.
if [ -f "$containers_conf" ]; then cp "$containers_conf" "$ctx/containers.conf.orig"; conf_saved=saved
else mkdir -p /etc/containers; conf_saved=none; fi
h=$(ulimit -Hn)
printf '[containers]\ndefault_ulimits = ["nofile=%s:%s", "nproc=4096:4096"]\n' "$h" "$h" >"$containers_conf"
# podman 4.3 publishes a containerPort without hostPort on the host (Kubernetes does not),
# so two web replicas would fight over one host port: the played copy leaves ports out.
python3 - "$ctx/run.kubernetes.yaml" "$ctx/play.yaml" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d and d["kind"] == "Deployment"]
for d in docs:
    for c in d["spec"]["template"]["spec"]["containers"]:
        c.pop("ports", None)
yaml.safe_dump_all(docs, open(sys.argv[2], "w"))
PY
# pods TYPE: how many of TYPE's pods run.
pods() { podman pod ps --filter "name=^$app-$1-pod-" --filter status=running --format '{{.Name}}' | wc -l; }
podman_counts() { [ "$(pods web)" = 2 ] && [ "$(pods worker)" = 3 ] && [ "$(pods stubborn)" = 1 ] && [ "$(pods mailer)" = 0 ]; }
pod_logs_say() { # TYPE TEXT: TYPE has pods, and every one's container has logged TEXT
  local c n=0
  for c in $(podman ps -a --filter "name=^$app-$1-pod-[0-9]+-$1\$" --format '{{.Names}}'); do
    podman logs "$c" 2>&1 | grep -qF -- "$2" || return 1
    n=$((n + 1))
  done
  [ "$n" -gt 0 ]
}
# podman builds a pause image for the pods' infra containers: ours to remove, if new.
podman image exists localhost/podman-pause:"$(podman version --format '{{.Client.Version}}')"-0 ||
  pause_image=localhost/podman-pause:"$(podman version --format '{{.Client.Version}}')"-0
if timeout 120 sh -c "docker save '$tag' | podman load" >/dev/null 2>&1; then
  podman_image=1
  podman_played=1
  if timeout 180 podman kube play "$ctx/play.yaml" >"$ctx/play.log" 2>&1 && wait_for 60 podman_counts; then
    pass "podman kube play: web 2, worker 3, stubborn 1, mailer 0 pods running"
  else fail "podman kube play" "web $(pods web), worker $(pods worker), stubborn $(pods stubborn), mailer $(pods mailer): $(tail -5 "$ctx/play.log")"; fi
  if wait_for 30 pod_logs_say web "web.1     | web.1 port=5000 greeting=hello role=frontend" &&
     wait_for 30 pod_logs_say worker "worker.1  | worker.1 port=5100 greeting=hello role=backend"; then
    pass "podman kube play: each pod runs its one type with [env], the type's env and PORT"
  else fail "podman env" "$(podman ps -a --format '{{.Names}} {{.Status}}' | head)"; fi
  timeout 120 podman kube down "$ctx/play.yaml" >/dev/null 2>&1 && podman_played=
else
  fail "podman load" "the image did not move from docker to podman"
fi

# ---------------------------------------------------------------- fly
for f in "$golden"/*.fly.toml; do
  if err=$(python3 - "$f" <<'PY' 2>&1
import sys, tomllib
fly = tomllib.load(open(sys.argv[1], "rb"))
procs = fly["processes"]
assert procs and all(v.endswith(f"-m {k}=1,all=0") for k, v in procs.items()), procs
assert fly["kill_signal"] == "SIGTERM" and 1 <= fly["kill_timeout"] <= 300, fly
assert {p for r in fly["restart"] for p in r["processes"]} == set(procs), fly["restart"]
if "web" in procs:
    assert fly["http_service"]["processes"] == ["web"], fly["http_service"]
release = fly.get("deploy", {}).get("release_command")
# `run release`, after the config's name in the image when it needs one (SPEC §8).
assert release is None or (release.split()[-2:] == ["run", "release"] and "release" not in procs), release
for name, check in fly.get("checks", {}).items():
    assert check["type"] in ("tcp", "http") and 0 < check["port"] < 65536, check
    assert set(check["processes"]) <= set(procs), check
PY
  ); then pass "tomllib reads $(basename "$f") as a fly.toml"
  else fail "fly.toml $(basename "$f")" "$err"; fi
done

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
