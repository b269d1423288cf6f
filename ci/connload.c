/* connload.c - paced TCP connection churn for ci/bench-watch.sh (issue 18's load test).
 *
 * usage: connload RATE SECONDS [PORT]
 *
 * In the current network namespace: a listener on 127.0.0.1:PORT (default 7070) whose accept
 * loop runs in a second thread and closes each connection at once, and a client that opens
 * RATE connections per second for SECONDS, paced per millisecond, each connected and closed
 * with an abortive close (SO_LINGER 0: no TIME-WAIT, so 600,000 connections do not exhaust the
 * ephemeral ports). Destination addresses rotate over 127.0.0.1-127.0.0.16 to spread 4-tuples.
 *
 * Prints one line: `connections N seconds S rate R cpu_seconds C failed F`, where C is the
 * process's user + system CPU (both threads): the workload's cost, compared with and without
 * a watch running.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int listener;

static void *acceptor(void *arg) {
    (void)arg;
    for (;;) {
        int c = accept(listener, NULL, NULL);
        if (c >= 0)
            close(c);
        else if (errno != EINTR && errno != ECONNABORTED)
            return NULL;
    }
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: connload RATE SECONDS [PORT]\n");
        return 2;
    }
    double rate = atof(argv[1]), seconds = atof(argv[2]);
    int port = argc > 3 ? atoi(argv[3]) : 7070;
    listener = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_ANY);
    if (bind(listener, (void *)&a, sizeof a) || listen(listener, 4096)) {
        perror("listen");
        return 2;
    }
    pthread_t t;
    pthread_create(&t, NULL, acceptor, NULL);
    struct linger abort_close = {.l_onoff = 1, .l_linger = 0};
    long done = 0, failed = 0;
    double start = now(), end = start + seconds;
    for (double n = now(); n < end; n = now()) {
        long due = (long)((n - start) * rate);
        if (done >= due) {
            usleep(200);
            continue;
        }
        while (done < due) {
            int s = socket(AF_INET, SOCK_STREAM, 0);
            struct sockaddr_in d = {.sin_family = AF_INET, .sin_port = htons(port)};
            d.sin_addr.s_addr = htonl(0x7f000001 + (done % 16));
            if (connect(s, (void *)&d, sizeof d))
                failed++;
            setsockopt(s, SOL_SOCKET, SO_LINGER, &abort_close, sizeof abort_close);
            close(s);
            done++;
        }
    }
    double wall = now() - start;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
                 ru.ru_stime.tv_usec / 1e6;
    printf("connections %ld seconds %.2f rate %.0f cpu_seconds %.4f failed %ld\n", done, wall,
           done / wall, cpu, failed);
    return 0;
}
