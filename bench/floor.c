/* Bench helper: the floor for reaping — a PID 1 that runs its argv and does nothing but
 * wait(2) in a loop until that child has exited. */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/wait.h>

int main(int argc, char **argv) {
    (void)argc;
    pid_t child = fork();
    if (child == 0) { execvp(argv[1], argv + 1); _exit(127); }
    int status = 0;
    for (;;) {
        pid_t pid = wait(&status);
        if (pid == child) break;
        if (pid < 0 && errno != EINTR) break;
    }
    /* keep reaping what is left */
    while (waitpid(-1, NULL, WNOHANG) > 0) {}
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
