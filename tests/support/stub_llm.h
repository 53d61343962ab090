/* tests/support/stub_llm.h - start and stop the stub LLM server (stub_llm.py) from C tests.
 * The stub script's path comes from the environment variable FM_STUB_LLM (set by CMake in
 * the test's ENVIRONMENT); the interpreter is FM_PYTHON when set (CMake resolves python3
 * once, past wrappers such as pyenv shims that take 0.4 s per start), else python3 on PATH. The
 * stub binds 127.0.0.1 on an ephemeral port and ends by itself after the script's max_requests or
 * max_seconds; tests still stop it with stub_llm_stop(). Header only; not thread-safe (it forks).
 */
#ifndef TESTS_SUPPORT_STUB_LLM_H
#define TESTS_SUPPORT_STUB_LLM_H

#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Start the stub with a script file; log_path (may be NULL) receives one JSON line per
 * request. On success returns 0 and sets *port and *pid; -1 (with a message on stderr) when
 * the stub could not be started or did not say its port within 10 s. */
static inline int
stub_llm_start(const char *script_path, const char *log_path, int *port, pid_t *pid)
{
    const char *stub = getenv("FM_STUB_LLM");
    if (!stub || !*stub) {
        fprintf(stderr, "stub_llm: FM_STUB_LLM is not set (the path of stub_llm.py)\n");
        return -1;
    }
    char dir[] = "/tmp/fm_stub_llm_XXXXXX";
    if (!mkdtemp(dir)) {
        perror("stub_llm: mkdtemp");
        return -1;
    }
    char port_file[sizeof(dir) + 16];
    snprintf(port_file, sizeof(port_file), "%s/port", dir);
    pid_t child = fork();
    if (child < 0) {
        perror("stub_llm: fork");
        rmdir(dir);
        return -1;
    }
    if (child == 0) {
        const char *py = getenv("FM_PYTHON");
        if (!py || !*py)
            py = "python3";
        if (log_path)
            execlp(py, py, stub, script_path, "--port-file", port_file, "--log", log_path,
                   (char *)NULL);
        else
            execlp(py, py, stub, script_path, "--port-file", port_file, (char *)NULL);
        _exit(127);
    }
    int got = -1;
    for (int i = 0; i < 1000 && got < 0; i++) {
        FILE *f = fopen(port_file, "r");
        if (f) {
            int p = 0;
            if (fscanf(f, "%d", &p) == 1 && p > 0 && p < 65536)
                got = p;
            fclose(f);
        }
        if (got < 0) {
            int status = 0;
            if (waitpid(child, &status, WNOHANG) == child) {
                fprintf(stderr, "stub_llm: the stub exited before listening (status %d)\n", status);
                child = -1;
                break;
            }
            struct timespec ts = {0, 10 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    unlink(port_file);
    rmdir(dir);
    if (got < 0) {
        if (child > 0) {
            fprintf(stderr, "stub_llm: no port from the stub within 10 s\n");
            kill(child, SIGKILL);
            waitpid(child, NULL, 0);
        }
        return -1;
    }
    *port = got;
    *pid = child;
    return 0;
}

/* Stop the stub (if still running) and reap it. */
static inline void stub_llm_stop(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
    }
}

/* A TCP port on 127.0.0.1 that nobody listens on (bound, then closed): connecting to it is
 * refused. Returns the port, or -1. */
static inline int stub_llm_dead_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

#endif
