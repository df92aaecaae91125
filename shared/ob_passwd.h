/* ob_passwd: password hashing with scrypt (RFC 7914) through OpenSSL's
 * EVP_KDF, stored as "$scrypt$ln=15,r=8,p=1$<b64 salt>$<b64 hash>" so the
 * cost can be raised later; verification compares in constant time. */
#ifndef OB_PASSWD_H
#define OB_PASSWD_H

/* Default cost: N = 2^15 (32 MiB, ~80 ms here). */
#define OB_PASSWD_LN 15

/* Returns a malloc'd hash string (caller frees) or NULL.  ln is log2(N),
 * from 10 to 20; pass OB_PASSWD_LN. */
char *ob_passwd_hash(const char *password, int ln);

/* Returns 1 if password matches stored, 0 if not, -1 if stored is malformed. */
int ob_passwd_verify(const char *password, const char *stored);

#endif
