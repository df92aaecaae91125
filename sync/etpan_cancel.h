/* etpan_cancel: one quiet descriptor instead of libetpan's cancel pipe.
 *
 * libetpan 1.9.4 gives every stream (plain socket or TLS) a "cancel" pipe
 * and puts its read end in the same select(2) set as the socket, so each
 * IMAP session held three descriptors, all of which had to stay below
 * FD_SETSIZE: one onebox-syncd topped out near 300 accounts.  onebox-syncd
 * never cancels a stream (a stop shuts the socket down instead,
 * account_interrupt), so the pipe is closed as soon as the stream exists and
 * the cancel is pointed at fd_reserve_quiet_fd(), shared by every session
 * and never readable.  The session's socket is then its only descriptor
 * below FD_SETSIZE.
 *
 * libetpan does not export struct mailstream_cancel; its 1.9.4 layout is
 * mirrored in etpan_cancel.c, and every descriptor found there is checked
 * (both ends of one pipe) before anything is changed. */
#ifndef SYNC_ETPAN_CANCEL_H
#define SYNC_ETPAN_CANCEL_H

#include <libetpan/libetpan.h>
#include <stddef.h>

/* Closes low's cancel pipe and points the cancel at the quiet descriptor.
 * 0, or -1 with err (no quiet descriptor, or not the expected layout). */
int etpan_cancel_detach(mailstream_low *low, char *err, size_t errlen);

/* Before libetpan frees low (mailstream_close, mailstream_low_free): takes
 * the shared descriptor back out of the cancel so freeing it closes
 * nothing.  Fine on a stream that was never detached. */
void etpan_cancel_release(mailstream_low *low);

#endif
