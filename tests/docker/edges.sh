# Scenarios of what a new user meets in the first hour (issue #24), sourced by run.sh: each is a
# function named NAME_scenario, run by the loop at the end of run.sh.

# SPEC §4 "credentials": an instance running as another user leaves PID 1 readable by
# `docker exec` (root without CAP_SYS_PTRACE), so `formation status` still finds what PID 1
# runs (here through the status listener that PID 1's environment names).
user_scenario() {
  local c env out
  c=$(run -e FORMATION_LISTEN=127.0.0.1:9090 "$tag" -c user.toml)
  wait_log "$c" "app.1 started"
  env=$(docker exec "$c" cat /proc/1/environ 2>&1 | tr '\0' '\n')
  out=$(docker exec "$c" /formation -c user.toml status 2>&1)
  if echo "$env" | grep -q '^PATH=' && echo "$out" | grep -F "app.1" | grep -qw running; then
    pass "an instance with user = 65534: docker exec reads /proc/1/environ, status lists app.1"
  else fail "user" "environ: $env; status: $out" "$c"; fi
  docker rm -f "$c" >/dev/null
}

# SPEC §3.4 "the shell hands over": `web: httpd -f -p $PORT` runs under /bin/sh -c; with
# Debian's dash as /bin/sh (it does not exec the last command, busybox's ash does), a
# forwarded HUP killed the dash, and with it the essential web and the container (exit 129).
# The program must be the instance itself: it survives `docker kill -s HUP`.
hup_scenario() {
  local c dash_ctx dashtag="$tag-dash" libs
  dash_ctx=$(mktemp -d)
  if ! command -v dash >/dev/null; then
    fail "HUP through a shell" "no dash on this machine to play Debian's /bin/sh"; return
  fi
  mkdir -p "$dash_ctx/root/bin"
  cp "$(command -v dash)" "$dash_ctx/root/bin/sh"
  # dash is dynamically linked: its libraries come along, at the same paths.
  libs=$(ldd "$(command -v dash)" | grep -o '/[^ ]*')
  for lib in $libs; do mkdir -p "$dash_ctx/root$(dirname "$lib")"; cp -L "$lib" "$dash_ctx/root$lib"; done
  printf 'FROM %s\nRUN ["/bin/busybox", "rm", "/bin/sh"]\nCOPY root /\n' "$tag" > "$dash_ctx/Dockerfile"
  if ! docker build -q -t "$dashtag" "$dash_ctx" >/dev/null 2>&1; then
    fail "HUP through a shell" "the dash image did not build"; rm -rf "$dash_ctx"; return
  fi
  rm -rf "$dash_ctx"
  c=$(run "$dashtag" -c hup.toml)
  wait_log "$c" "web.1 started"
  local deadline=$((SECONDS + 10))
  until docker exec "$c" pidof httpd >/dev/null 2>&1 || [ $SECONDS -ge $deadline ]; do sleep 0.2; done
  docker kill -s HUP "$c" >/dev/null
  # Bounded wait for what a HUP that killed the shell would do: the container exits.
  deadline=$((SECONDS + 3))
  while [ "$(docker inspect -f '{{.State.Running}}' "$c")" = true ] && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
  if [ "$(docker inspect -f '{{.State.Running}}' "$c")" = true ] && ! docker logs "$c" 2>&1 | grep -q "web.1 was killed by SIGHUP"; then
    pass "docker kill -s HUP with dash as /bin/sh: web (httpd -f -p \$PORT) survives, the container runs on"
  else fail "HUP through a shell" "exit $(exit_code "$c")" "$c"; fi
  docker rm -f "$c" >/dev/null
  docker rmi -f "$dashtag" >/dev/null 2>&1
}

# Dockerfile.example builds with the classic builder (Docker 20.10 without BuildKit: no
# BUILDPLATFORM, which made its first FROM `failed to parse platform : ""`) and with BuildKit.
# No registry: the Rust stage's image is this suite's busybox image (RUST_IMAGE), so each
# build gets past the FROM lines and stops at the stage's first RUN (no rustup in busybox).
dockerfile_scenario() {
  local how out dfctx cli=(docker) buildkit=()
  dfctx=$(mktemp -d)
  cp "$root/Dockerfile.example" "$dfctx/Dockerfile"
  if docker buildx version >/dev/null 2>&1; then
    buildkit=(docker buildx build --load --progress=plain)
  else
    # Without buildx, a client that still has BuildKit built in (Docker 20.10's own: Debian's
    # docker.io, /usr/bin/docker) talks to the daemon's BuildKit.
    for c in docker /usr/bin/docker; do
      if [ -x "$(command -v "$c")" ] && DOCKER_BUILDKIT=1 "$c" build --help 2>/dev/null | grep -q -- '--progress'; then
        cli=("$c"); buildkit=(env DOCKER_BUILDKIT=1 "$c" build --progress=plain); break
      fi
    done
  fi
  for how in classic buildkit; do
    case $how in
      # --force-rm: the classic builder keeps the container of a failed step otherwise.
      classic) out=$(DOCKER_BUILDKIT=0 "${cli[@]}" build --force-rm --target formation --build-arg "RUST_IMAGE=$tag" "$dfctx" 2>&1) ;;
      buildkit)
        if [ ${#buildkit[@]} = 0 ]; then fail "Dockerfile.example with BuildKit" "no buildx and no client with BuildKit built in"; continue; fi
        out=$("${buildkit[@]}" --target formation --build-arg "RUST_IMAGE=$tag" "$dfctx" 2>&1) ;;
    esac
    if ! echo "$out" | grep -q "failed to parse platform" && echo "$out" | grep -q "rustup"; then
      pass "Dockerfile.example with the $how builder gets past its FROM lines (stops at rustup, absent here)"
    else fail "Dockerfile.example with the $how builder" "$(echo "$out" | tail -5)"; fi
  done
  rm -rf "$dfctx"
}
