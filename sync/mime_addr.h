/* mime_addr: the one-mailbox address fields most mail carries, recognised
 * without a general RFC 5322 parse.
 *
 * libetpan's mailimf_address_list_parse() builds a tree with a dozen
 * allocations and costs ~10,000 instructions for "Name <a@b.example>"; a
 * sync of 10,000 messages parses 20,000 such fields.  mime_addr_simple()
 * takes only the plainest shapes and says no to everything else (quotes,
 * comments, encoded words, groups, lists, non-ASCII, obsolete syntax),
 * which then goes to libetpan as before.  For what it takes it gives the
 * display name and the address libetpan would give. */
#ifndef ONEBOX_MIME_ADDR_H
#define ONEBOX_MIME_ADDR_H

#include <stddef.h>

struct mime_addr {
    const char *name;   /* display name, inside the input; NULL if none */
    size_t name_len;
    const char *addr;   /* local@domain, inside the input */
    size_t addr_len;
};

/* 1 and *out filled when s[0..n) is, between optional blanks, one of
 *   local@domain
 *   Word Word <local@domain>     words of letters, digits and "-_'",
 *                                separated by single spaces
 *   "Any Name" <local@domain>    printable ASCII but '"', '\\' and '='
 *                                inside, no two spaces in a row; the name
 *                                is what is between the quotes
 * local and domain are letters and digits, and "_+-" in local, "-" in
 * domain, in non-empty parts separated by ".".  0 otherwise. */
int mime_addr_simple(const char *s, size_t n, struct mime_addr *out);

#endif
