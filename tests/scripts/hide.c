/* A user-land socket hider of the libprocesshider kind, built by tests/it/crossview.rs with the
 * system's cc and loaded with LD_PRELOAD. It hides one local port:
 *
 *   HIDE_PROCNET_PORT=N  reads of .../net/tcp and .../net/tcp6 (open, open64, openat, fopen,
 *                        fopen64) return the table without the lines whose local port is N:
 *                        what netstat, lsof and sockwarden's procnet view read;
 *   HIDE_NETLINK_PORT=N  replies read from a NETLINK_SOCK_DIAG socket (recv, recvfrom,
 *                        recvmsg) lose the messages of inet sockets whose local port is N:
 *                        what ss and sockwarden's netlink view read.
 *
 * Test code only: it runs the tools of one test in a private network namespace. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

static int port_of(const char *var) {
    const char *v = getenv(var);
    return v ? atoi(v) : 0;
}

static int is_tcp_table(const char *path) {
    size_t n = path ? strlen(path) : 0;
    return (n >= 8 && strcmp(path + n - 8, "/net/tcp") == 0) ||
           (n >= 9 && strcmp(path + n - 9, "/net/tcp6") == 0);
}

/* The table without the hidden port's lines, in a memfd positioned at its start. */
static int filtered(const char *path) {
    int (*real_open)(const char *, int, ...) = dlsym(RTLD_NEXT, "open");
    int in = real_open(path, O_RDONLY);
    if (in < 0)
        return in;
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    ssize_t r;
    while ((r = read(in, buf + len, cap - len)) > 0) {
        len += (size_t)r;
        if (len == cap)
            buf = realloc(buf, cap *= 2);
    }
    close(in);
    char hide[16];
    snprintf(hide, sizeof hide, ":%04X ", port_of("HIDE_PROCNET_PORT"));
    int out = memfd_create("net", 0);
    char *line = buf, *end = buf + len;
    while (line < end) {
        char *nl = memchr(line, '\n', (size_t)(end - line));
        size_t n = nl ? (size_t)(nl - line) + 1 : (size_t)(end - line);
        /* The local address is the second column: "  sl  ADDR:PORT REMOTE:PORT ...". */
        char *colon = memchr(line, ':', n);
        char *local = colon ? colon + 1 : NULL;
        while (local && local < line + n && *local == ' ')
            local++;
        char *sp = local ? memchr(local, ' ', (size_t)(line + n - local)) : NULL;
        int drop = sp && sp - local > 5 && memcmp(sp - 5, hide, 6) == 0;
        if (!drop && write(out, line, n) < 0)
            break;
        line += n;
    }
    free(buf);
    lseek(out, 0, SEEK_SET);
    return out;
}

#define OPEN_HOOK(name, ...)                                                   \
    int name(__VA_ARGS__) {                                                    \
        va_list ap;                                                            \
        va_start(ap, flags);                                                   \
        mode_t mode = (mode_t)va_arg(ap, int);                                 \
        va_end(ap);                                                            \
        if (port_of("HIDE_PROCNET_PORT") && is_tcp_table(path))                \
            return filtered(path);
OPEN_HOOK(open, const char *path, int flags, ...)
    int (*real)(const char *, int, ...) = dlsym(RTLD_NEXT, "open");
    return real(path, flags, mode);
}
OPEN_HOOK(open64, const char *path, int flags, ...)
    int (*real)(const char *, int, ...) = dlsym(RTLD_NEXT, "open64");
    return real(path, flags, mode);
}
OPEN_HOOK(openat, int dir, const char *path, int flags, ...)
    int (*real)(int, const char *, int, ...) = dlsym(RTLD_NEXT, "openat");
    return real(dir, path, flags, mode);
}
OPEN_HOOK(openat64, int dir, const char *path, int flags, ...)
    int (*real)(int, const char *, int, ...) = dlsym(RTLD_NEXT, "openat64");
    return real(dir, path, flags, mode);
}

static FILE *hooked_fopen(const char *sym, const char *path, const char *mode) {
    if (port_of("HIDE_PROCNET_PORT") && is_tcp_table(path)) {
        int fd = filtered(path);
        return fd < 0 ? NULL : fdopen(fd, mode);
    }
    FILE *(*real)(const char *, const char *) = dlsym(RTLD_NEXT, sym);
    return real(path, mode);
}
FILE *fopen(const char *path, const char *mode) { return hooked_fopen("fopen", path, mode); }
FILE *fopen64(const char *path, const char *mode) { return hooked_fopen("fopen64", path, mode); }

/* Drops the hidden port's messages from a sock_diag reply of `n` bytes; returns the new size. */
static ssize_t drop_diag(int fd, char *buf, ssize_t n) {
    int port = port_of("HIDE_NETLINK_PORT"), proto = 0;
    socklen_t l = sizeof proto;
    if (n <= 0 || !port || getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &l) != 0 ||
        proto != NETLINK_SOCK_DIAG)
        return n;
    ssize_t off = 0;
    while (off + (ssize_t)sizeof(struct nlmsghdr) <= n) {
        struct nlmsghdr *h = (struct nlmsghdr *)(buf + off);
        ssize_t len = NLMSG_ALIGN(h->nlmsg_len);
        if (h->nlmsg_len < sizeof *h || off + len > n)
            break;
        struct inet_diag_msg *m = NLMSG_DATA(h);
        if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY &&
            h->nlmsg_len >= NLMSG_LENGTH(sizeof *m) &&
            (m->idiag_family == AF_INET || m->idiag_family == AF_INET6) &&
            ntohs(m->id.idiag_sport) == port) {
            memmove(buf + off, buf + off + len, (size_t)(n - off - len));
            n -= len;
            continue;
        }
        off += len;
    }
    return n;
}

/* A reply whose every message was dropped would read as end of file: read the next one. */
ssize_t recvmsg(int fd, struct msghdr *msg, int flags) {
    ssize_t (*real)(int, struct msghdr *, int) = dlsym(RTLD_NEXT, "recvmsg");
    for (;;) {
        ssize_t n = real(fd, msg, flags);
        if (n <= 0 || msg->msg_iovlen != 1 || (flags & (MSG_PEEK | MSG_TRUNC)))
            return n;
        n = drop_diag(fd, msg->msg_iov[0].iov_base, n);
        if (n > 0)
            return n;
    }
}

ssize_t recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *a, socklen_t *al) {
    ssize_t (*real)(int, void *, size_t, int, struct sockaddr *, socklen_t *) =
        dlsym(RTLD_NEXT, "recvfrom");
    for (;;) {
        ssize_t n = real(fd, buf, len, flags, a, al);
        if (n <= 0 || (flags & (MSG_PEEK | MSG_TRUNC)))
            return n;
        n = drop_diag(fd, buf, n);
        if (n > 0)
            return n;
    }
}

ssize_t recv(int fd, void *buf, size_t len, int flags) {
    return recvfrom(fd, buf, len, flags, NULL, NULL);
}
