/* fcgi_hello: the trivial FastCGI responder the REST benchmark compares
 * onebox-api with (FastCGI 1.0 on fcgi2).  Built like onebox-api: THREADS
 * worker threads, each with its own FCGX_Request, all blocked in
 * FCGX_Accept_r on one Unix socket; each request gets a fixed small JSON
 * answer, read from nothing.  Behind the same nginx configuration, the gap
 * to it is the cost of onebox-api's own work (routing, JWT, SQLite,
 * sync.sock) plus its FastCGI framing.
 *
 *   fcgi_hello SOCKET_PATH THREADS
 * Stops on SIGTERM/SIGINT (it is killed by PID by bench/run.sh). */
#include <fcgiapp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int listen_fd = -1;

static void *worker(void *arg)
{
    (void)arg;
    FCGX_Request r;
    if (FCGX_InitRequest(&r, listen_fd, 0) != 0)
        return NULL;
    static const char body[] = "{\"success\":true,\"data\":{\"hello\":\"world\"}}";
    while (FCGX_Accept_r(&r) == 0) {
        FCGX_FPrintF(r.out, "Status: 200 OK\r\nContent-Type: application/json\r\n"
                            "Content-Length: %u\r\n\r\n%s", (unsigned)(sizeof body - 1), body);
        FCGX_Finish_r(&r);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: fcgi_hello SOCKET_PATH THREADS\n");
        return 2;
    }
    int n = atoi(argv[2]);
    if (n < 1 || n > 256 || strlen(argv[1]) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
        fprintf(stderr, "fcgi_hello: THREADS 1..256 and a short socket path\n");
        return 2;
    }
    if (FCGX_Init() != 0)
        return 1;
    /* A plain bind (not FCGX_OpenSocket, which exit()s on errors). */
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    memcpy(sa.sun_path, argv[1], strlen(argv[1]) + 1);
    unlink(argv[1]);
    listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
        chmod(argv[1], 0660) < 0 || listen(listen_fd, 128) < 0) {
        perror("fcgi_hello: listen");
        return 1;
    }
    /* FCGX_Init resets signal dispositions; the default ones end us. */
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    pthread_t th[256];
    for (int i = 0; i < n; i++)
        if (pthread_create(&th[i], NULL, worker, NULL) != 0) {
            perror("fcgi_hello: pthread_create");
            return 1;
        }
    fprintf(stderr, "fcgi_hello: %d threads on %s\n", n, argv[1]);
    for (int i = 0; i < n; i++)
        pthread_join(th[i], NULL);
    return 0;
}
