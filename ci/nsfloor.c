/* nsfloor.c - the floor for "dump every network namespace": for each namespace file given,
 * setns(2) into it and run one NETLINK_SOCK_DIAG dump per table (TCP v4+v6, UDP v4+v6, unix),
 * walking the nlmsg headers without parsing. What sockwarden --all-netns --no-processes
 * --no-extensions must stay close to (ci/bench-netns.sh).
 * build: gcc -O2 -o nsfloor nsfloor.c
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static unsigned seq;

static long dump(int fd, const void *req, size_t reqlen, char *buf, size_t buflen)
{
    struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
    struct { struct nlmsghdr nlh; char body[128]; } msg;
    memset(&msg, 0, sizeof msg);
    msg.nlh.nlmsg_len = NLMSG_LENGTH(reqlen);
    msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    msg.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    msg.nlh.nlmsg_seq = ++seq;
    memcpy(NLMSG_DATA(&msg.nlh), req, reqlen);
    if (sendto(fd, &msg, msg.nlh.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof sa) < 0) { perror("sendto"); exit(1); }
    long n = 0;
    for (;;) {
        ssize_t r = recv(fd, buf, buflen, 0);
        if (r < 0) { perror("recv"); exit(1); }
        int len = (int)r;
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
            if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) return n;
            n++;
        }
    }
}

int main(int argc, char **argv)
{
    char *buf = malloc(65536);
    long total = 0;
    for (int a = 1; a < argc; a++) {
        int nsfd = open(argv[a], O_RDONLY | O_CLOEXEC);
        if (nsfd < 0 || setns(nsfd, CLONE_NEWNET) < 0) { perror(argv[a]); return 1; }
        close(nsfd);
        int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
        int rcv = 1 << 20;
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
        for (int p = 0; p < 2; p++) {
            int fams[2] = {AF_INET, AF_INET6};
            for (int f = 0; f < 2; f++) {
                struct inet_diag_req_v2 r;
                memset(&r, 0, sizeof r);
                r.sdiag_family = fams[f];
                r.sdiag_protocol = p == 0 ? IPPROTO_TCP : IPPROTO_UDP;
                r.idiag_states = 0x1fffu;
                total += dump(fd, &r, sizeof r, buf, 65536);
            }
        }
        struct unix_diag_req u;
        memset(&u, 0, sizeof u);
        u.sdiag_family = AF_UNIX;
        u.udiag_states = ~0u;
        u.udiag_show = UDIAG_SHOW_NAME | UDIAG_SHOW_PEER;
        total += dump(fd, &u, sizeof u, buf, 65536);
        close(fd);
    }
    printf("namespaces=%d sockets=%ld\n", argc - 1, total);
    return 0;
}
