/* etpan_cancel: libetpan's per-stream cancel pipe replaced by one shared
 * quiet descriptor; see etpan_cancel.h. */
#include "etpan_cancel.h"

#include "fd_reserve.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <unistd.h>

/* libetpan 1.9.4, src/data-types/mailstream_cancel_types.h. */
struct etpan_cancel_mirror {
    int ms_cancelled;
    int ms_fds[2];
    void *ms_internal;
};

static struct etpan_cancel_mirror *mirror(mailstream_low *low)
{
    return low ? (struct etpan_cancel_mirror *)mailstream_low_get_cancel(low) : NULL;
}

/* fds[0] and fds[1] are the read and the write end of one pipe. */
static int is_pipe_pair(const int fds[2])
{
    struct stat r, w;
    if (fds[0] < 0 || fds[1] < 0 || fds[0] == fds[1] ||
        fstat(fds[0], &r) < 0 || fstat(fds[1], &w) < 0)
        return 0;
    if (!S_ISFIFO(r.st_mode) || r.st_dev != w.st_dev || r.st_ino != w.st_ino)
        return 0;
    int rf = fcntl(fds[0], F_GETFL), wf = fcntl(fds[1], F_GETFL);
    return rf >= 0 && wf >= 0 && (rf & O_ACCMODE) == O_RDONLY && (wf & O_ACCMODE) == O_WRONLY;
}

int etpan_cancel_detach(mailstream_low *low, char *err, size_t errlen)
{
    int q = fd_reserve_quiet_fd();
    if (q < 0) {
        snprintf(err, errlen, "no quiet descriptor below %d for libetpan's select", FD_SETSIZE);
        return -1;
    }
    struct etpan_cancel_mirror *c = mirror(low);
    if (!c || !is_pipe_pair(c->ms_fds)) {
        snprintf(err, errlen, "libetpan's stream cancel is not the pipe this build expects");
        return -1;
    }
    int r = c->ms_fds[0], w = c->ms_fds[1];
    /* A notify writes to -1 and fails harmlessly; nothing here notifies. */
    c->ms_fds[0] = q;
    c->ms_fds[1] = -1;
    close(r);
    close(w);
    if (r < FD_SETSIZE || w < FD_SETSIZE)
        fd_reserve_refill();
    return 0;
}

void etpan_cancel_release(mailstream_low *low)
{
    struct etpan_cancel_mirror *c = mirror(low);
    if (c && c->ms_fds[1] == -1 && c->ms_fds[0] == fd_reserve_quiet_fd())
        c->ms_fds[0] = -1;
}
