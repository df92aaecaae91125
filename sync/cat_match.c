/* cat_match.c — see cat_match.h.
 *
 * The patterns form a trie stored as a double array: node s's child on byte
 * class c is slot base[s] + c if check of that slot is s. Nodes are 16-bit
 * slot ids, and bytes are mapped to the classes that occur in patterns (one
 * class for every other byte), so the whole automaton for ~700 rules is a
 * few tens of KiB: a message is scored right after SQLite work that has
 * evicted the caches, and a 256-wide transition table of the same trie
 * would be megabytes of which each message touches scattered lines.
 *
 * The scan walks the trie from each position where a pattern can start,
 * without failure links: nearly every pattern starts with a word code
 * point and so can only start where a word does, and the left boundary
 * check alone skips the positions inside words. The walk from a start
 * sees every pattern that starts there, so every occurrence is looked at.
 */
#include "cat_match.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define CM_MAX_SLOTS 0xFFFFu /* 16-bit slot ids, CM_NONE kept apart */
/* Trie nodes: placing them leaves a few slots free between them (0.5 %
 * for 55,000 nodes), which this leaves room for. */
#define CM_MAX_NODES 60000u
#define CM_NONE      0xFFFFu /* check of a slot that is no node's child */
#define CM_DEAD      0u      /* slot 0: where a walk goes when it ends */
#define CM_LANES     4u      /* walks interleaved (walk_all() names four) */

#define CM_BLOCK 1024u /* text positions sorted out at a time */

#define CM_RB   1u /* word boundary required after the pattern */
#define CM_LAST 2u /* last hit of its node */

struct cm_node {
	uint16_t base;  /* children at base + class */
	uint16_t check; /* parent's slot (0 for the root) */
	uint16_t out;   /* 1 + first index in hit[] of the patterns ending here, or 0 */
};

struct cm_hit {
	uint16_t id;
	uint8_t kinds;
	uint8_t flags; /* CM_RB, CM_LAST */
};

/* The trie while patterns are added; index 0 is the root. */
struct cm_tnode {
	uint32_t child, sib; /* first child, next sibling; 0: none */
	unsigned char byte;
};

struct cm_add {
	uint32_t node;
	uint16_t id;
	uint8_t kinds, rb;
};

struct cat_match {
	/* What a scan reads. */
	uint16_t root[256];  /* slot of the node one byte deep, 0: none */
	uint8_t cls[256];    /* byte class; 0 for bytes that are in no pattern */
	uint8_t aword[256];  /* 1 for ASCII letters and digits */
	struct cm_node *node;
	size_t nslots;
	struct cm_hit *hit;
	size_t nhit;
	/* The trie under construction; freed by cat_match_build(). */
	struct cm_tnode *t;
	size_t nt, tcap;
	struct cm_add *add;
	size_t nadd, addcap;
};

struct cat_match *cat_match_new(void)
{
	struct cat_match *m = calloc(1, sizeof *m);

	if (!m)
		return NULL;
	if (!(m->t = calloc(64, sizeof *m->t))) {
		free(m);
		return NULL;
	}
	m->tcap = 64;
	m->nt = 1;
	for (unsigned b = 0; b < 128; b++)
		m->aword[b] = (uint8_t)cat_match_is_word_cp(b);
	return m;
}

void cat_match_free(struct cat_match *m)
{
	if (!m)
		return;
	free(m->node);
	free(m->hit);
	free(m->t);
	free(m->add);
	free(m);
}

size_t cat_match_bytes(const struct cat_match *m)
{
	if (!m)
		return 0;
	return sizeof m->root + sizeof m->cls + sizeof m->aword + m->nslots * sizeof *m->node +
	       m->nhit * sizeof *m->hit;
}

/* The child of trie node x on byte b, or 0. */
static uint32_t trie_find(const struct cat_match *m, uint32_t x, unsigned char b)
{
	for (uint32_t c = m->t[x].child; c; c = m->t[c].sib)
		if (m->t[c].byte == b)
			return c;
	return 0;
}

/* A new child of trie node x on byte b; 0 when out of memory. */
static uint32_t trie_new(struct cat_match *m, uint32_t x, unsigned char b)
{
	uint32_t c;

	if (m->nt == m->tcap) {
		struct cm_tnode *nt = realloc(m->t, m->tcap * 2 * sizeof *nt);
		if (!nt)
			return 0;
		m->t = nt;
		m->tcap *= 2;
	}
	c = (uint32_t)m->nt++;
	m->t[c].byte = b;
	m->t[c].child = 0;
	m->t[c].sib = m->t[x].child;
	m->t[x].child = c;
	return c;
}

int cat_match_add(struct cat_match *m, const char *pat, size_t plen, int rb, unsigned id,
                  unsigned kinds)
{
	uint32_t x = 0, c;
	size_t i = 0;

	/* A NUL would let a walk past the NUL that ends a text. */
	if (!m || !m->t || !pat || plen == 0 || id > UINT16_MAX || memchr(pat, '\0', plen)) {
		errno = EINVAL;
		return -1;
	}
	for (; i < plen && (c = trie_find(m, x, (unsigned char)pat[i])) != 0; i++)
		x = c;
	if (m->nt + (plen - i) > CM_MAX_NODES) {
		errno = E2BIG;
		return -1;
	}
	if (m->nadd == m->addcap) {
		size_t nc = m->addcap ? m->addcap * 2 : 64;
		struct cm_add *na = realloc(m->add, nc * sizeof *na);
		if (!na)
			return -1;
		m->add = na;
		m->addcap = nc;
	}
	for (; i < plen; i++)
		if (!(x = trie_new(m, x, (unsigned char)pat[i])))
			return -1;
	m->add[m->nadd].node = x;
	m->add[m->nadd].id = (uint16_t)id;
	m->add[m->nadd].kinds = (uint8_t)kinds;
	m->add[m->nadd].rb = rb != 0;
	m->nadd++;
	return 0;
}

/* Slot allocation of the double array. */
struct cm_slots {
	uint8_t *used;
	size_t cap, low; /* low: no free slot below it */
};

static int slots_reserve(struct cm_slots *s, size_t n)
{
	if (n <= s->cap)
		return 0;
	size_t nc = s->cap ? s->cap : 1024;
	while (nc < n)
		nc *= 2;
	uint8_t *nu = realloc(s->used, nc);
	if (!nu)
		return -1;
	memset(nu + s->cap, 0, nc - s->cap);
	s->used = nu;
	s->cap = nc;
	return 0;
}

/* The lowest base that puts the first class of c[0..k) (ascending) at or
 * after slot from and every class on a free slot, those slots then taken;
 * or -1 when out of memory or ids. */
static long slots_place(struct cm_slots *s, size_t from, const unsigned *c, size_t k)
{
	size_t lo = from > s->low ? from : s->low;
	size_t b = lo > c[0] ? lo - c[0] : 0;

	for (;; b++) {
		size_t j;
		if (b + c[k - 1] >= CM_MAX_SLOTS) {
			errno = E2BIG;
			return -1;
		}
		if (slots_reserve(s, b + c[k - 1] + 1) < 0)
			return -1;
		for (j = 0; j < k && !s->used[b + c[j]]; j++)
			;
		if (j == k)
			break;
	}
	for (size_t j = 0; j < k; j++)
		s->used[b + c[j]] = 1;
	while (s->low < s->cap && s->used[s->low])
		s->low++;
	return (long)b;
}

static int add_cmp(const void *x, const void *y)
{
	const struct cm_add *a = x, *b = y;

	if (a->node != b->node)
		return a->node < b->node ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

static int uint_cmp(const void *x, const void *y)
{
	unsigned a = *(const unsigned *)x, b = *(const unsigned *)y;

	return a < b ? -1 : a > b;
}

/* Gives every trie node a slot and fills base and check; slot[] and
 * base[] are indexed by trie node. Depth first, each node's children at the
 * first free slots after it: a walk down a word then reads consecutive
 * slots, a cache line for several steps, where breadth-first order would
 * put every step of it on a line of its own. */
static int place_nodes(struct cat_match *m, uint32_t *slot, uint32_t *base, size_t *maxslot)
{
	struct cm_slots s = { NULL, 0, 1 };
	uint32_t *stack = malloc(m->nt * sizeof *stack);
	unsigned cl[256];
	size_t sp = 1;
	int rc = -1;

	if (!stack || slots_reserve(&s, 1024) < 0)
		goto out;
	s.used[0] = 1; /* slot 0 means "none" */
	stack[0] = 0;
	slot[0] = 0;
	*maxslot = 0;
	while (sp > 0) {
		uint32_t x = stack[--sp];
		size_t k = 0;
		long b;
		for (uint32_t c = m->t[x].child; c; c = m->t[c].sib)
			cl[k++] = m->cls[m->t[c].byte];
		base[x] = 0;
		if (k == 0)
			continue;
		qsort(cl, k, sizeof *cl, uint_cmp);
		if ((b = slots_place(&s, slot[x] + 1, cl, k)) < 0)
			goto out;
		base[x] = (uint32_t)b;
		for (uint32_t c = m->t[x].child; c; c = m->t[c].sib) {
			slot[c] = (uint32_t)b + m->cls[m->t[c].byte];
			if (slot[c] > *maxslot)
				*maxslot = slot[c];
			stack[sp++] = c;
		}
	}
	rc = 0;
out:
	free(stack);
	free(s.used);
	return rc;
}

int cat_match_build(struct cat_match *m)
{
	uint32_t *slot = NULL, *base = NULL;
	size_t maxslot, nclass = 1;
	int rc = -1;

	if (!m || !m->t)
		return -1;
	for (size_t i = 1; i < m->nt; i++)
		m->cls[m->t[i].byte] = 1;
	for (unsigned b = 0; b < 256; b++)
		if (m->cls[b])
			m->cls[b] = (uint8_t)nclass++;
	if (!(slot = calloc(m->nt, sizeof *slot)) || !(base = calloc(m->nt, sizeof *base)))
		goto out;
	if (place_nodes(m, slot, base, &maxslot) < 0)
		goto out;
	/* Room for base + class of any node, leaves (base 0) included. */
	m->nslots = maxslot + nclass + 1;
	if (!(m->node = calloc(m->nslots, sizeof *m->node)))
		goto out;
	/* No lookup from CM_DEAD (base 0) or from any node may find a child
	 * where there is none: root children and empty slots check CM_NONE. */
	for (size_t i = 0; i < m->nslots; i++)
		m->node[i].check = CM_NONE;
	for (uint32_t c = m->t[0].child; c; c = m->t[c].sib)
		m->root[m->t[c].byte] = (uint16_t)slot[c];
	for (size_t x = 1; x < m->nt; x++) {
		struct cm_node *nd = &m->node[slot[x]];
		nd->base = (uint16_t)base[x];
		for (uint32_t c = m->t[x].child; c; c = m->t[c].sib)
			m->node[slot[c]].check = (uint16_t)slot[x];
	}
	if (m->nadd) {
		qsort(m->add, m->nadd, sizeof *m->add, add_cmp);
		if (m->nadd >= UINT16_MAX) {
			errno = E2BIG;
			goto out;
		}
		if (!(m->hit = calloc(m->nadd, sizeof *m->hit)))
			goto out;
	}
	for (size_t i = 0; i < m->nadd; i++) {
		const struct cm_add *a = &m->add[i];
		struct cm_node *nd = &m->node[slot[a->node]];
		if (!nd->out)
			nd->out = (uint16_t)(i + 1);
		m->hit[i].id = a->id;
		m->hit[i].kinds = a->kinds;
		m->hit[i].flags = (uint8_t)((a->rb ? CM_RB : 0) |
		                            (i + 1 == m->nadd || m->add[i + 1].node != a->node
		                                     ? CM_LAST : 0));
	}
	m->nhit = m->nadd;
	free(m->t);
	free(m->add);
	m->t = NULL;
	m->add = NULL;
	rc = 0;
out:
	free(slot);
	free(base);
	return rc;
}

/* The patterns of node slot out-list out end at q: mark those of kind whose
 * right boundary holds. */
static void report(const struct cat_match *m, unsigned out, const char *t, size_t q, size_t tn,
                   unsigned kind, uint8_t *hit)
{
	int rb_ok = -1;

	for (const struct cm_hit *h = &m->hit[out - 1];; h++) {
		if (h->kinds & kind) {
			if (!(h->flags & CM_RB))
				hit[h->id] |= (uint8_t)kind;
			else {
				if (rb_ok < 0)
					rb_ok = !cat_match_is_word_cp(cat_match_cp_at(t + q, t + tn));
				if (rb_ok)
					hit[h->id] |= (uint8_t)kind;
			}
		}
		if (h->flags & CM_LAST)
			break;
	}
}

/* Whether a pattern can start at p, which is not between two ASCII word
 * bytes: a pattern starting with a word code point needs a non-word one
 * before it, and one starting with anything else cannot start on a word
 * code point; so only a start between two word code points is no start. */
static int walk_ok(const char *text, size_t tn, size_t p)
{
	return !cat_match_is_word_cp(cat_match_cp_at(text + p, text + tn)) ||
	       !cat_match_is_word_cp(cat_match_cp_before(text, text + p));
}

/* One step of the walk in lane *st (packed: the offset of the next byte
 * << 16 | the slot reached): down to the child on the next byte, or when
 * there is none, on to the next start, cand[*ci]. Reports what ends at the
 * slot first. The choice is made with a mask, not a conditional the
 * compiler could turn back into the branch this is meant to avoid. */
static inline void lane_step(const struct cat_match *m, const char *text, size_t tn,
                             unsigned kind, uint8_t *hit, uint64_t *st, const uint64_t *cand,
                             size_t *ci)
{
	unsigned s = (unsigned)*st & 0xFFFFu;
	size_t q = (size_t)(*st >> 16);
	const struct cm_node *nd = &m->node[s];

	if (nd->out)
		report(m, nd->out, text, q, tn, kind, hit);
	unsigned x = (unsigned)nd->base + m->cls[(unsigned char)text[q]];
	unsigned on = m->node[x].check == s;
	uint64_t keep = (uint64_t)0 - on;
	*st = ((*st + 0x10000u + x - s) & keep) | (cand[*ci] & ~keep);
	*ci += !on;
}

/* One walk down the trie per candidate start, four at a time in lockstep:
 * a walk is a chain of dependent loads that ends after an unpredictable
 * number of steps, so one walk after another costs a load latency per
 * step and a mispredicted branch per walk, while interleaved walks overlap
 * their loads and end without a branch (a lane that ends takes the next
 * start). A start is packed as in a lane: the offset after the pattern's
 * first byte << 16 | the slot one byte deep. The list ends with a CM_DEAD
 * start at tn, and t[tn] must be 0 (a byte in no pattern) so that no walk
 * reads past it. */
static void walk_all(const struct cat_match *m, const char *text, size_t tn,
                     const uint64_t *cand, size_t nc, unsigned kind, uint8_t *hit)
{
	uint64_t st[CM_LANES];
	size_t ci = 0;
	unsigned live;

	for (unsigned l = 0; l < CM_LANES; l++) {
		st[l] = cand[ci];
		ci += ci < nc;
	}
	/* Lanes in locals, so they stay in registers. While at least
	 * CM_LANES starts remain no lane can run out of them, so the count
	 * of starts taken needs no bound. */
	uint64_t s0 = st[0], s1 = st[1], s2 = st[2], s3 = st[3];
	while (ci + CM_LANES <= nc) {
		lane_step(m, text, tn, kind, hit, &s0, cand, &ci);
		lane_step(m, text, tn, kind, hit, &s1, cand, &ci);
		lane_step(m, text, tn, kind, hit, &s2, cand, &ci);
		lane_step(m, text, tn, kind, hit, &s3, cand, &ci);
	}
	st[0] = s0;
	st[1] = s1;
	st[2] = s2;
	st[3] = s3;
	do {
		live = 0;
		for (unsigned l = 0; l < CM_LANES; l++) {
			unsigned s = (unsigned)st[l] & 0xFFFFu;
			size_t q = (size_t)(st[l] >> 16);
			const struct cm_node *nd = &m->node[s];
			if (nd->out)
				report(m, nd->out, text, q, tn, kind, hit);
			unsigned x = (unsigned)nd->base + m->cls[(unsigned char)text[q]];
			if (m->node[x].check == s)
				st[l] += 0x10000u + x - s;
			else {
				st[l] = cand[ci];
				ci += ci < nc;
			}
			live |= (unsigned)st[l] & 0xFFFFu;
		}
	} while (live);
}

#define CM_ONES 0x0101010101010101ull
#define CM_HIGH 0x8080808080808080ull

/* The high bits of the 8 bytes of v, bit 7 of each, gathered into bits
 * 0..7 in text order. */
static inline unsigned gather8(uint64_t v)
{
	return (unsigned)(((v >> 7) * 0x0102040810204080ull) >> 56);
}

/* Which of the n <= 64 bytes at s are ASCII letters or digits (*word) and
 * which may start a pattern that does not start with one (*other: every
 * other byte, but the space only if space_starts: folding never puts one
 * at the start of a pattern, and it is the commonest byte between words),
 * bit i for s[i]; 8 bytes a step. */
static void chunk_masks(const unsigned char *s, size_t n, int space_starts, uint64_t *word,
                        uint64_t *other)
{
	uint64_t spmask = space_starts ? 0 : CM_HIGH;
	uint64_t w = 0, o = 0;

	for (size_t k = 0; k < n; k += 8) {
		uint64_t v = 0, x, lo, alpha, digit, sp, hi;
		if (n - k >= 8)
			memcpy(&v, s + k, 8);
		else
			memcpy(&v, s + k, n - k);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
		v = __builtin_bswap64(v);
#endif
		/* Per byte, on 7 bits so no sum carries into the next byte:
		 * bit 7 of x + (0x80 - c) is set when the byte is >= c. */
		hi = v & CM_HIGH;
		x = v & ~CM_HIGH;
		lo = x | 0x20 * CM_ONES;
		alpha = (lo + (0x80 - 'a') * CM_ONES) & ~(lo + (0x80 - 'z' - 1) * CM_ONES);
		digit = (x + (0x80 - '0') * CM_ONES) & ~(x + (0x80 - '9' - 1) * CM_ONES);
		sp = ~((x ^ 0x20 * CM_ONES) + 0x7F * CM_ONES);
		w |= (uint64_t)gather8((alpha | digit) & ~hi & CM_HIGH) << k;
		o |= (uint64_t)gather8((~(alpha | digit | (sp & spmask)) & CM_HIGH) | hi) << k;
	}
	if (n < 64) {
		/* The zero bytes past the end read as "other". */
		w &= ((uint64_t)1 << n) - 1;
		o &= ((uint64_t)1 << n) - 1;
	}
	*word = w;
	*other = o;
}

void cat_match_scan(const struct cat_match *m, const char *text, size_t tn, unsigned kind,
                    uint8_t *hit)
{
	const unsigned char *t = (const unsigned char *)text;
	uint64_t cand[CM_BLOCK + 1];

	if (!m || !m->node || tn == 0)
		return;
	for (size_t b0 = 0; b0 < tn; b0 += CM_BLOCK) {
		size_t b1 = tn - b0 < CM_BLOCK ? tn : b0 + CM_BLOCK, nc = 0;
		uint64_t prevw = b0 ? m->aword[t[b0 - 1]] : 0, any = 0;
		/* The starts of this block, 64 bytes at a time with masks (a
		 * branch per byte would go the other way at every word, too
		 * often to predict): a byte that starts a pattern, unless it
		 * and the byte before are both ASCII letters or digits, since a
		 * start between two word code points is no start (see
		 * walk_ok()). */
		for (size_t c0 = b0; c0 < b1; c0 += 64) {
			size_t n = b1 - c0 < 64 ? b1 - c0 : 64;
			uint64_t w, o, cm;
			chunk_masks(t + c0, n, m->root[' '] != 0, &w, &o);
			cm = (w & ~(w << 1 | prevw)) | o;
			prevw = w >> 63;
			while (cm) {
				size_t p = c0 + (size_t)__builtin_ctzll(cm);
				unsigned r = m->root[t[p]];
				cand[nc] = (uint64_t)(p + 1) << 16 | r;
				nc += r != 0;
				any |= t[p] | (p ? t[p - 1] : 0);
				cm &= cm - 1;
			}
		}
		if (any & 0x80) {
			size_t k = 0;
			for (size_t i = 0; i < nc; i++) {
				size_t p = (size_t)(cand[i] >> 16) - 1;
				/* A lead byte 0xE3..0xEF starts U+3000..U+FFFF
				 * (or an invalid sequence, U+FFFD): never a
				 * word code point, so no need to decode (CJK). */
				if (p == 0 || (t[p] | t[p - 1]) < 0x80 ||
				    (t[p] >= 0xE3 && t[p] <= 0xEF) || walk_ok(text, tn, p))
					cand[k++] = cand[i];
			}
			nc = k;
		}
		cand[nc] = (uint64_t)tn << 16 | CM_DEAD;
		walk_all(m, text, tn, cand, nc, kind, hit);
	}
}
