/* syscall-cost.c - the CPU cost of one cheap system call, for ci/bench-watch.sh (issue 18).
 *
 * usage: syscall-cost [CALLS]   (default 20,000,000)
 *
 * Calls getppid() CALLS times and prints `ns_per_call N`: the process's user + system CPU time
 * (CLOCK_PROCESS_CPUTIME_ID, not wall time: the machine may be shared) divided by CALLS. A
 * syscall tracepoint with a program attached anywhere puts every system call of every task on
 * the tracing slow path; this shows that cost, with and without a watch running.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    long calls = argc > 1 ? atol(argv[1]) : 20000000L;
    if (calls <= 0) {
        fprintf(stderr, "usage: syscall-cost [CALLS]\n");
        return 2;
    }
    struct timespec a, b;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
    for (long i = 0; i < calls; i++)
        syscall(SYS_getppid); /* not cached by libc */
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
    double ns = (b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec);
    printf("ns_per_call %.1f\n", ns / calls);
    return 0;
}
