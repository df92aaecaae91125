/* fcgi_request: the FastCGI side of one REST request (fcgi2, FastCGI 1.0
 * spec) — turning a request's params and stdin into a struct api_req, with
 * the body bounded by cfg.api_body_max, and writing the answer back as a
 * CGI response (RFC 3875 §6: "Status:" and header lines, blank line, body). */
#ifndef FCGI_REQUEST_H
#define FCGI_REQUEST_H

#include "api.h"

#include <fcgiapp.h>

/* Fills r's input fields from fr.  The body is read into buf (cap bytes,
 * which must exceed cfg.api_body_max) and NUL-terminated.  Returns 0, or -1
 * after answering (400 malformed params, a short body, or a path or query
 * over API_PATH_MAX; 413 body too large). */
int fcgi_request_read(FCGX_Request *fr, struct api_req *r, char *buf, size_t cap);

/* Writes r's answer (status line, headers, body) to fr.  Returns 0, or -1
 * when the web server went away (the caller just finishes the request). */
int fcgi_request_write(FCGX_Request *fr, const struct api_req *r);

/* Finishes fr (FCGX_Finish_r); input_done (api_req.input_done) lets it
 * close the connection at once instead of lingering for the web server. */
void fcgi_request_finish(FCGX_Request *fr, int input_done);

/* Reason phrase of an HTTP status (RFC 9110 §15). */
const char *fcgi_request_reason(int status);

#endif
