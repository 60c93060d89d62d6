/* Bench helper: forks N children that exit at once, gives them time to become zombies (it
 * never waits for them), then exits itself, so that N zombies are re-parented onto PID 1 at
 * the same moment. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 20000;
    for (int i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid == 0) _exit(0);
        if (pid < 0) { perror("fork"); break; }
    }
    usleep(300000);
    return 0;
}
