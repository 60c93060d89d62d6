/* Bench helper: the floor for a formation of N instances — a PID 1 that starts N copies of a
 * command as fast as one process can (vfork + execvp: no pipes, no bookkeeping) and, on
 * SIGTERM, signals them all, reaps them all and exits. What the kernel itself costs.
 * usage: spawn_floor N PROGRAM [ARG...] */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/wait.h>

int main(int argc, char **argv) {
    if (argc < 3) return 2;
    long n = strtol(argv[1], NULL, 10);
    sigset_t term, empty;
    sigemptyset(&term);
    sigemptyset(&empty);
    sigaddset(&term, SIGTERM);
    sigprocmask(SIG_BLOCK, &term, NULL);
    for (long i = 0; i < n; i++) {
        pid_t pid = vfork();
        if (pid == 0) {
            sigprocmask(SIG_SETMASK, &empty, NULL);
            execvp(argv[2], argv + 2);
            _exit(127);
        }
    }
    int sig;
    sigwait(&term, &sig);
    kill(-1, SIGTERM);
    while (wait(NULL) > 0 || errno == EINTR) {}
    return 0;
}
