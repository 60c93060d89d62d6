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
