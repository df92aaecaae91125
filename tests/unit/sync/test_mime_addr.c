/* test_mime_addr.c — tests of sync/mime_addr.c, the fast path for plain
 * one-mailbox address fields: the shapes it takes, the ones it must leave
 * to libetpan, and a randomized comparison with libetpan's own parse of
 * every input it takes (same display name, same address).
 */
#include "../unit.h"
#include <CUnit/Basic.h>
#include <libetpan/libetpan.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../sync/mime_addr.h"

static void takes(const char *s, const char *name, const char *addr)
{
	struct mime_addr ma;
	int ok = mime_addr_simple(s, strlen(s), &ma);
	CU_ASSERT(ok);
	if (!ok) {
		fprintf(stderr, "not taken: [%s]\n", s);
		return;
	}
	CU_ASSERT((name == NULL) == (ma.name == NULL));
	if (name && ma.name)
		CU_ASSERT(ma.name_len == strlen(name) && memcmp(ma.name, name, ma.name_len) == 0);
	CU_ASSERT(ma.addr_len == strlen(addr) && memcmp(ma.addr, addr, ma.addr_len) == 0);
}

static void leaves(const char *s)
{
	struct mime_addr ma;
	CU_ASSERT_FALSE(mime_addr_simple(s, strlen(s), &ma));
}

static void test_shapes(void)
{
	takes("a@b", NULL, "a@b");
	takes("  bob.smith@mail.example.com\t", NULL, "bob.smith@mail.example.com");
	takes("Sender 5 <sender5@example.org>", "Sender 5", "sender5@example.org");
	takes("O'Neil Jr <o.neil+tag@x-y.example>", "O'Neil Jr", "o.neil+tag@x-y.example");
	takes("\tAb <a@b> ", "Ab", "a@b");
	takes("\"Sender 10\" <sender10@example.org>", "Sender 10", "sender10@example.org");
	takes("\"Smith, J. (Sales)\" <j@x.example>", "Smith, J. (Sales)", "j@x.example");
	takes("\" a \" <j@x>", " a ", "j@x");

	leaves("");
	leaves("   ");
	leaves("<a@b>");                          /* no name: libetpan's call */
	leaves("A  B <a@b>");                     /* two spaces */
	leaves("Ab<a@b>");
	leaves("\"Smith \\\"J\\\"\" <j@x>");       /* quoted pair */
	leaves("\"\" <j@x>");                      /* empty quotes */
	leaves("\"A\"<j@x>");
	leaves("\"=?utf-8?q?J=C3=A9r=C3=B4me?=\" <j@x>"); /* libetpan keeps the quotes */
	leaves("\"A  B\" <j@x>");                 /* libetpan squeezes the blanks */
	leaves("\"A\" B <j@x>");
	leaves("=?utf-8?q?J=C3=A9r=C3=B4me?= <j@x>"); /* encoded word */
	leaves("a@b, c@d");                       /* a list */
	leaves("a@b (comment)");
	leaves("undisclosed-recipients:;");       /* a group */
	leaves("Ab <a..b@c>");
	leaves("Ab <.a@b>");
	leaves("Ab <a@b.>");
	leaves("Ab <a@>");
	leaves("Ab <@b>");
	leaves("J\xc3\xa9r\xc3\xb4me <j@x>");     /* raw 8-bit */
	leaves("a@b c");
}

static uint64_t rng = 0x2545F4914F6CDD1Dull;
static unsigned rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)rng;
}

/* Every input the fast path takes must give what libetpan gives. */
static void test_same_as_libetpan(void)
{
	static const char *forms[] = {
		"Sender 5 <sender5@example.org>", "a@b", " bob.smith@mail.example.com ",
		"O'Neil Jr <o.neil+tag@x-y.example>", "A  B <a@b>", "<a@b>", "A <a@b>",
		"x_y-z <x_y@d>", "Ab <a..b@c>", "Ab <a@b.>", "Ab<a@b>", "a@b c", "\tAb <a@b>\t",
		"\"Sender 10\" <sender10@example.org>", "\"S, J. (x)\" <j@x.y>", "\"a\\\"b\" <a@b>",
		"\"=?utf-8?q?a?=\" <a@b>",
	};
	const char *al = "aZ09-_'.+@<> \t\"(),:;=?!#\\";
	size_t an = strlen(al), nf = sizeof forms / sizeof forms[0];
	long taken = 0, differ = 0;
	char in[64];

	for (int t = 0; t < 300000; t++) {
		size_t n;
		if (t % 4 == 0) {
			n = 1 + rnd() % 30;
			for (size_t i = 0; i < n; i++)
				in[i] = al[rnd() % an];
		} else {
			const char *f = forms[rnd() % nf];
			n = strlen(f);
			memcpy(in, f, n);
			for (int m = t % 4 - 1; m > 0; m--)
				in[rnd() % n] = al[rnd() % an];
		}
		in[n] = '\0';
		struct mime_addr ma;
		if (!mime_addr_simple(in, n, &ma))
			continue;
		taken++;
		struct mailimf_address_list *l = NULL;
		size_t idx = 0;
		const struct mailimf_mailbox *mb = NULL;
		if (mailimf_address_list_parse(in, n, &idx, &l) == MAILIMF_NO_ERROR && l &&
		    clist_count(l->ad_list) == 1) {
			const struct mailimf_address *ad = clist_content(clist_begin(l->ad_list));
			if (ad->ad_type == MAILIMF_ADDRESS_MAILBOX)
				mb = ad->ad_data.ad_mailbox;
		}
		const char *dn = mb && mb->mb_display_name && mb->mb_display_name[0]
		                 ? mb->mb_display_name : NULL;
		int same = mb && mb->mb_addr_spec && strlen(mb->mb_addr_spec) == ma.addr_len &&
		           memcmp(mb->mb_addr_spec, ma.addr, ma.addr_len) == 0 &&
		           (dn ? ma.name && strlen(dn) == ma.name_len &&
		                 memcmp(dn, ma.name, ma.name_len) == 0
		               : ma.name == NULL);
		if (!same && differ++ < 5)
			fprintf(stderr, "differs from libetpan: [%s]\n", in);
		if (l)
			mailimf_address_list_free(l);
	}
	CU_ASSERT(taken > 10000);
	CU_ASSERT_EQUAL(differ, 0);
}

static const struct unit_case cases[] = {
	{ "shapes taken and left", test_shapes },
	{ "same name and address as libetpan", test_same_as_libetpan },
	{ NULL, NULL },
};

UNIT_MAIN("sync mime_addr", cases)
