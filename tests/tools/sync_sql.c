/* sync_sql: runs one SQL statement on a SQLite database and prints each
 * result row as its columns joined by '|' (like the sqlite3 shell's default
 * mode), so the onebox-syncd integration tests need no sqlite3 CLI.  Waits
 * up to 5 s on a busy database (the daemon writes concurrently).
 *
 *   sync_sql DB SQL [FILE]    FILE's bytes are bound to ?1 as text
 *
 * Exit 0, or 1 with the reason on stderr. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: sync_sql DB SQL [FILE]\n");
        return 1;
    }
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        fprintf(stderr, "sync_sql: %s: %s\n", argv[1], db ? sqlite3_errmsg(db) : "cannot open");
        sqlite3_close(db);
        return 1;
    }
    sqlite3_busy_timeout(db, 5000);
    char *param = NULL;
    long plen = 0;
    if (argc == 4) {
        FILE *f = fopen(argv[3], "rb");
        if (!f || fseek(f, 0, SEEK_END) < 0 || (plen = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0 ||
            !(param = malloc((size_t)plen + 1)) || fread(param, 1, (size_t)plen, f) != (size_t)plen) {
            fprintf(stderr, "sync_sql: cannot read %s\n", argv[3]);
            return 1;
        }
        fclose(f);
    }
    sqlite3_stmt *st = NULL;
    int rc = 1;
    if (sqlite3_prepare_v2(db, argv[2], -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "sync_sql: %s\n", sqlite3_errmsg(db));
        goto out;
    }
    if (param)
        sqlite3_bind_text(st, 1, param, (int)plen, SQLITE_STATIC);
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        for (int i = 0; i < sqlite3_column_count(st); i++) {
            const unsigned char *v = sqlite3_column_text(st, i);
            printf("%s%s", i ? "|" : "", v ? (const char *)v : "");
        }
        printf("\n");
    }
    if (r != SQLITE_DONE)
        fprintf(stderr, "sync_sql: %s\n", sqlite3_errmsg(db));
    else
        rc = 0;
out:
    sqlite3_finalize(st);
    sqlite3_close(db);
    free(param);
    return rc;
}
