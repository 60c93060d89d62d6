# Runtime control through `docker exec` (SPEC §10, issue #23), sourced by run.sh: each
# NAME_scenario is run by the loop at the end of run.sh. The formation is examples/control,
# run as its README runs it: the image Dockerfile.example builds ($app) with the example's
# formation.toml bind-mounted over the image's config, so the example is what is tested.

# `docker exec CONTAINER /formation ARGS...` as root, bounded.
ctl() { timeout 60 docker exec "$1" /formation "${@:2}"; }
# The same as USER (`--user 1000:1000`).
ctl_as() { timeout 60 docker exec --user "$1" "$2" /formation "${@:3}"; }
# Column COLUMN (2: pid, 3: state) of INSTANCE's row in `formation status`.
status_of() { ctl "$1" status 2>/dev/null | awk -v n="$2" -v k="$3" '$1 == n {print $k}'; }
running() { [ "$(docker inspect -f '{{.State.Running}}' "$1")" = true ]; }

# A copy of the example's config to mount and edit (in place: a single-file bind mount keeps
# the inode it was given), readable by any uid.
control_config() {
  local dir
  dir=$(mktemp -d "$ctx/control.XXXXXX")
  chmod 755 "$dir"
  cp "$root/examples/control/formation.toml" "$dir/"
  chmod 644 "$dir/formation.toml"
  echo "$dir/formation.toml"
}

# The example as `docker run -d … -v CONFIG:/app/formation.toml:ro my-app`, with extra
# `docker run` options; once web.1 and web.2 are ready and worker.1 runs.
control_app() {
  local config=$1 c
  shift
  c=$(run "$@" -v "$config:/app/formation.toml:ro" "$app")
  wait_log "$c" "web.1 ready" && wait_log "$c" "web.2 ready" && wait_log "$c" "worker.1 started"
  echo "$c"
}

# As root: restart rolls web one instance at a time while the container runs on; scale adds
# workers with their own pids and takes them away; another uid is refused.
control_exec_scenario() {
  local c out code web1 web2 worker states pids err="$ctx/control.err"
  c=$(control_app "$(control_config)")
  web1=$(status_of "$c" web.1 2); web2=$(status_of "$c" web.2 2); worker=$(status_of "$c" worker.1 2)
  out=$(ctl "$c" restart web --wait 2>&1); code=$?
  # One at a time: web.2 gets its SIGTERM only once the new web.1 is ready.
  local order
  order=$(docker logs "$c" 2>&1 | grep -oE 'formation \| (web\.1 ready|web\.2: restarting)' | tail -2 | paste -sd ,)
  if [ "$code" = 0 ] && [ "$(echo "$out" | paste -sd ,)" = "web.1 ready,web.2 ready,ok" ] &&
     [ -n "$web1" ] && [ "$(status_of "$c" web.1 2)" != "$web1" ] &&
     [ "$(status_of "$c" web.2 2)" != "$web2" ] && [ "$(status_of "$c" worker.1 2)" = "$worker" ] &&
     [ "$order" = "formation | web.1 ready,formation | web.2: restarting" ] && running "$c" &&
     wait_log "$c" "formation | control: restart web --wait (uid 0)" 5 &&
     [ "$(docker logs "$c" 2>&1 | grep -c '^web.1     | web.1 listening on port 5000$')" = 2 ]; then
    pass "docker exec app /formation restart web --wait: web.1 then web.2 get new pids one at a time, worker.1 untouched, the container runs on, the log says who"
  else fail "control: restart" "exit $code, answer: $out; order: $order; status: $(ctl "$c" status 2>&1)" "$c"; fi

  out=$(ctl "$c" scale worker=3 --wait 2>&1); code=$?
  states=$(for i in 1 2 3; do status_of "$c" "worker.$i" 3; done | paste -sd ' ')
  pids=$(for i in 1 2 3; do status_of "$c" "worker.$i" 2; done | grep -E '^[0-9]+$' | sort -u | wc -l)
  if [ "$code" = 0 ] && [ "$states" = "running running running" ] && [ "$pids" = 3 ] &&
     [ "$(status_of "$c" worker.1 2)" = "$worker" ] && wait_log "$c" "worker.3  | worker.3 working" 5; then
    out=$(ctl "$c" scale worker=0 --wait 2>&1); code=$?
    states=$(for i in 1 2 3; do status_of "$c" "worker.$i" 3; done | paste -sd ' ')
    if [ "$code" = 0 ] && [ "$states" = "stopped stopped stopped" ] && running "$c" &&
       [ "$(status_of "$c" web.1 3)" = ready ]; then
      pass "docker exec app /formation scale worker=3: status lists worker.1..3 running with 3 pids; worker=0 stops them, formation runs on"
    else fail "control: scale worker=0" "exit $code, answer: $out; states: $states" "$c"; fi
  else fail "control: scale worker=3" "exit $code, answer: $out; states: $states, $pids pids" "$c"; fi

  # SPEC §10: a peer that is neither root nor formation's uid reads `error: permission
  # denied` and exits 1; nothing changes, and formation logs the refusal with its uid.
  web1=$(status_of "$c" web.1 2)
  out=$(ctl_as 1000:1000 "$c" restart web 2>"$err"); code=$?
  local code2 code3 status
  ctl_as 1000:1000 "$c" scale worker=2 >/dev/null 2>&1; code2=$?
  status=$(ctl_as 1000:1000 "$c" status 2>&1); code3=$?
  if [ "$code" = 1 ] && [ -z "$out" ] && [ "$(cat "$err")" = "error: permission denied" ] &&
     [ "$code2" = 1 ] && [ "$code3" = 1 ] && [ "$status" = "error: permission denied" ] &&
     [ "$(status_of "$c" web.1 2)" = "$web1" ] &&
     [ "$(status_of "$c" worker.1 3)" = stopped ] &&
     wait_log "$c" "control: refused a client with uid 1000" 5 &&
     ! docker logs "$c" 2>&1 | grep -qF "control: restart web (uid 1000)"; then
    pass "docker exec --user 1000 into a formation run as root: restart, scale and status refused (error: permission denied, exit 1), nothing changed, the refusal logged"
  else fail "control: another uid" "restart exit $code ($out / $(cat "$err")), scale exit $code2, status exit $code3: $status" "$c"; fi
  docker rm -f "$c" >/dev/null
}

# `docker run --user 1000 --read-only`: formation's own uid may control it, another may not;
# restart and scale need no writable file (the socket is abstract).
control_user_scenario() {
  local c out code web1 code2 err="$ctx/control.err"
  c=$(control_app "$(control_config)" --read-only --user 1000:1000)
  web1=$(status_of "$c" web.1 2)
  out=$(ctl_as 1000:1000 "$c" restart web --wait 2>&1); code=$?
  out=$out$(ctl_as 1000:1000 "$c" scale worker=3 --wait 2>&1); code2=$?
  if [ "$code" = 0 ] && [ "$code2" = 0 ] && [ -n "$web1" ] &&
     [ "$(status_of "$c" web.1 2)" != "$web1" ] && [ "$(status_of "$c" worker.3 3)" = running ] &&
     wait_log "$c" "formation | control: scale worker=3 --wait (uid 1000)" 5; then
    pass "docker run --user 1000: docker exec --user 1000 restart web --wait and scale worker=3 are allowed (formation's own uid)"
  else fail "control: --user 1000" "restart exit $code, scale exit $code2: $out" "$c"; fi
  out=$(ctl_as 1001:1001 "$c" stop worker 2>"$err"); code=$?
  if [ "$code" = 1 ] && [ "$(cat "$err")" = "error: permission denied" ] &&
     [ "$(status_of "$c" worker.1 3)" = running ] && [ -z "$(docker diff "$c")" ]; then
    pass "--read-only --user 1000: restart and scale worked with nothing written (docker diff empty); --user 1001 refused"
  else fail "control: --read-only" "uid 1001 exit $code ($(cat "$err")); docker diff: $(docker diff "$c")" "$c"; fi
  docker rm -f "$c" >/dev/null
}

# examples/control/README.md's reload: the mounted config edited on the host (in place), the
# plan shown by --dry-run with nothing changed, then applied; a config with an error changes
# nothing and names its file:line:col. The root is read-only: formation writes nothing.
control_reload_scenario() {
  local c config out code before after rows
  config=$(control_config)
  c=$(control_app "$config" --read-only)
  before=$(ctl "$c" status 2>&1 | awk 'NR > 1 {print $1, $2}')
  cat "$root/examples/control/formation.edited.toml" > "$config"
  out=$(ctl "$c" reload --dry-run 2>&1); code=$?
  after=$(ctl "$c" status 2>&1 | awk 'NR > 1 {print $1, $2}')
  if [ "$code" = 0 ] &&
     [ "$(echo "$out" | paste -sd ,)" = "web: unchanged,worker: scale 1 -> 2,clock: added: scheduled (scale 1),ok" ] &&
     [ -n "$before" ] && [ "$after" = "$before" ]; then
    pass "reload --dry-run of the edited bind-mounted config prints the plan (web unchanged, worker 1 -> 2, clock added) and changes nothing"
  else fail "control: reload --dry-run" "exit $code, answer: $out; status before: $before; after: $after" "$c"; fi

  out=$(ctl "$c" reload --wait 2>&1); code=$?
  after=$(ctl "$c" status 2>&1 | awk 'NR > 1 {print $1, $2}')
  if [ "$code" = 0 ] && echo "$out" | grep -qx "worker.2 running" &&
     [ "$(echo "$out" | tail -2 | paste -sd ,)" = "reload applied,ok" ] &&
     [ "$(echo "$after" | grep -vE '^(worker\.2|clock\.1) ')" = "$before" ] &&
     [ "$(status_of "$c" worker.2 3)" = running ] && [ -n "$(status_of "$c" clock.1 3)" ] &&
     wait_log "$c" "formation | control: reload --wait (uid 0)" 5; then
    pass "reload --wait applies it: worker.2 runs, clock.1 is added, web.1, web.2 and worker.1 keep their pids"
  else fail "control: reload" "exit $code, answer: $out; status: $after" "$c"; fi

  # A mistake on the last line of the file: exit 2, the error with file:line:col, and the
  # formation as it was.
  before=$(ctl "$c" status 2>&1 | awk 'NR > 1 {print $1, $2}')
  echo 'scale = "two"' >> "$config"
  rows=$(wc -l < "$config")
  out=$(ctl "$c" reload 2>&1); code=$?
  after=$(ctl "$c" status 2>&1 | awk 'NR > 1 {print $1, $2}')
  if [ "$code" = 2 ] &&
     echo "$out" | grep -qF "formation.toml:$rows:9: \`scale\` must be a whole number" &&
     echo "$out" | grep -qx "error: usage: reload: 1 error(s); nothing changed" &&
     [ "$after" = "$before" ] && wait_log "$c" "formation | reload: 1 error(s); nothing changed" 5 &&
     [ -z "$(docker diff "$c")" ]; then
    pass "reload of a config with an error: exit 2, formation.toml:$rows:9 named, nothing changed; nothing written to the read-only root"
  else fail "control: reload with an error" "exit $code, answer: $out; diff: $(docker diff "$c")" "$c"; fi
  docker rm -f "$c" >/dev/null
}

# PostgreSQL rewrites its title and environment, so the old /proc-environ scan could not see
# it; `status` comes from formation's own table: postgres.1 listed as ready, with the
# postmaster's pid (the first line of postmaster.pid). Debian's binaries (installed by
# .ci/run) go into the suite's image with their shared libraries, at the same paths.
control_postgres_scenario() {
  local c pgtag="$tag-pg" pgctx version pg files lib pid row code out
  version=$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -1)
  pg=/usr/lib/postgresql/$version
  if [ -z "$version" ] || [ ! -x "$pg/bin/postgres" ]; then
    fail "control: status of postgres" "no PostgreSQL under /usr/lib/postgresql (.ci/run installs postgresql)"; return
  fi
  pgctx=$(mktemp -d)
  # initdb and postgres, the modules initdb loads (all but the JIT, which pulls in LLVM),
  # every library they link, the server's share directory and the time zones.
  files="$pg/bin/postgres $pg/bin/initdb $(ls "$pg"/lib/*.so | grep -v llvmjit)"
  for lib in $files $(ldd $files 2>/dev/null | grep -v ':$' | grep -o '/[^ ]*' | sort -u); do
    mkdir -p "$pgctx/root$(dirname "$lib")"; cp -L "$lib" "$pgctx/root$lib"
  done
  mkdir -p "$pgctx/root/usr/share"
  cp -r /usr/share/postgresql /usr/share/zoneinfo "$pgctx/root/usr/share/"
  # postgres will not run as root and looks its user up: a passwd with a postgres user.
  cat > "$pgctx/Dockerfile" <<EOF
FROM $tag
COPY root /
RUN echo 'root:x:0:0::/:/bin/sh' > /etc/passwd && echo 'postgres:x:70:70::/var/lib/postgresql:/bin/sh' >> /etc/passwd && printf 'root:x:0:\npostgres:x:70:\n' > /etc/group && mkdir -p /var/lib/postgresql && chown 70:70 /var/lib/postgresql
ENV PATH=$pg/bin:/bin
EOF
  if ! docker build -q -t "$pgtag" "$pgctx" >/dev/null 2>"$ctx/build.log"; then
    fail "control: status of postgres" "the postgres image did not build: $(tail -5 "$ctx/build.log")"; rm -rf "$pgctx"; return
  fi
  rm -rf "$pgctx"
  c=$(run "$pgtag" -c postgres.toml)
  if wait_log "$c" "postgres.1 ready (notify" 60; then
    pid=$(docker exec "$c" head -1 /var/lib/postgresql/data/postmaster.pid)
    row=$(ctl "$c" status 2>&1 | awk '$1 == "postgres.1" {print $2, $3}')
    out=$(ctl "$c" restart postgres --wait 2>&1); code=$?
    local pid2 row2
    pid2=$(docker exec "$c" head -1 /var/lib/postgresql/data/postmaster.pid)
    row2=$(ctl "$c" status 2>&1 | awk '$1 == "postgres.1" {print $2, $3}')
    if [ -n "$pid" ] && [ "$row" = "$pid ready" ] && [ "$(status_of "$c" initdb.1 3)" = ended ] &&
       [ "$code" = 0 ] && [ "$pid2" != "$pid" ] && [ "$row2" = "$pid2 ready" ]; then
      pass "docker exec formation status lists postgres.1 ready with the postmaster's pid ($pid); restart postgres --wait: ready again as $pid2"
    else fail "control: status of postgres" "postmaster.pid $pid, status row: $row; after the restart (exit $code: $out) $pid2, row: $row2; status: $(ctl "$c" status 2>&1)" "$c"; fi
  else fail "control: status of postgres" "postgres.1 not ready within 60 s" "$c"; fi
  docker rm -f "$c" >/dev/null
  docker rmi -f "$pgtag" >/dev/null 2>&1
}
