/* bootapp: a "booted app" for ckptbench's time-to-first-response section.
 *
 * Start-up does a couple of seconds of work in an interpreter: it generates
 * a text catalogue of N records ("name price qty tag" lines), parses it back
 * with strtol, builds a chained hash table over the names, sorts an index
 * of the records by price with qsort, and folds everything into a checksum.
 * It then prints "ready <checksum>" to stderr and serves requests: one per
 * line on stdin, answered by one line on stdout, until end of input or
 * "quit":
 *
 *   get NAME   ->  "NAME price qty tag"        (or "NAME missing")
 *   rank K     ->  "K NAME price"               the K-th cheapest record
 *
 * The serving loop blocks in read(2) on stdin, like a real server: a
 * checkpoint requested while it waits (`ferry run --checkpoint-on
 * signal:USR1`) interrupts the blocked fd_read, which has consumed
 * nothing, and the restored app issues the same read again.
 *
 * Usage: bootapp [N]   (default N = 100000 records)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
	char name[16];
	long price, qty;
	char tag[8];
	int next; /* hash chain */
} record;

static record *recs;
static int *buckets, *byprice;
static unsigned nbuckets;
static int nrecs;

static unsigned xs = 2463534242u;
static unsigned rnd(void) {
	xs ^= xs << 13;
	xs ^= xs >> 17;
	xs ^= xs << 5;
	return xs;
}

static unsigned hash(const char *s) {
	unsigned h = 2166136261u;
	while (*s) h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

static int cmp_price(const void *a, const void *b) {
	const record *x = &recs[*(const int *)a], *y = &recs[*(const int *)b];
	if (x->price != y->price) return x->price < y->price ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int lookup(const char *name) {
	for (int i = buckets[hash(name) & (nbuckets - 1)]; i >= 0; i = recs[i].next)
		if (strcmp(recs[i].name, name) == 0) return i;
	return -1;
}

static unsigned boot(int n) {
	static const char *tags[] = {"red", "green", "blue", "amber", "violet", "grey"};
	/* 1. generate the catalogue as text */
	size_t cap = (size_t)n * 48 + 1;
	char *text = malloc(cap), *p = text;
	for (int i = 0; i < n; i++) {
		unsigned id = rnd() % 100000u, price = rnd() % 1000000u, qty = rnd() % 5000u, tag = rnd() % 6;
		p += snprintf(p, cap - (size_t)(p - text), "item%05u%c %u %u %s\n", id, 'a' + i % 26, price, qty, tags[tag]);
	}
	/* 2. parse it */
	recs = calloc((size_t)n, sizeof(record));
	nrecs = 0;
	for (char *q = text; *q;) {
		record *r = &recs[nrecs];
		int k = 0;
		while (*q != ' ' && k < 15) r->name[k++] = *q++;
		r->name[k] = 0;
		r->price = strtol(q, &q, 10);
		r->qty = strtol(q, &q, 10);
		while (*q == ' ') q++;
		k = 0;
		while (*q != '\n' && k < 7) r->tag[k++] = *q++;
		r->tag[k] = 0;
		if (*q == '\n') q++;
		nrecs++;
	}
	free(text);
	/* 3. hash table over the names (a later duplicate shadows nothing:
	 * lookups find the first inserted) */
	for (nbuckets = 1; nbuckets < (unsigned)nrecs * 2; nbuckets <<= 1) {}
	buckets = malloc(nbuckets * sizeof(int));
	for (unsigned i = 0; i < nbuckets; i++) buckets[i] = -1;
	for (int i = nrecs - 1; i >= 0; i--) {
		unsigned b = hash(recs[i].name) & (nbuckets - 1);
		recs[i].next = buckets[b];
		buckets[b] = i;
	}
	/* 4. an index sorted by price */
	byprice = malloc((size_t)nrecs * sizeof(int));
	for (int i = 0; i < nrecs; i++) byprice[i] = i;
	qsort(byprice, (size_t)nrecs, sizeof(int), cmp_price);
	/* 5. a checksum touching everything, with every lookup done once */
	unsigned h = 2166136261u;
	for (int i = 0; i < nrecs; i++) {
		const record *r = &recs[byprice[i]];
		h = (h ^ (unsigned)lookup(r->name)) * 16777619u;
		h = (h ^ (unsigned)r->price ^ ((unsigned)r->qty << 20)) * 16777619u;
	}
	return h;
}

static void serve_line(char *line) {
	char *arg = strchr(line, ' ');
	if (arg) *arg++ = 0;
	if (strcmp(line, "get") == 0 && arg) {
		int i = lookup(arg);
		if (i < 0) printf("%s missing\n", arg);
		else printf("%s %ld %ld %s\n", recs[i].name, recs[i].price, recs[i].qty, recs[i].tag);
	} else if (strcmp(line, "rank") == 0 && arg) {
		long k = strtol(arg, NULL, 10);
		if (k < 0 || k >= nrecs) printf("%ld out of range\n", k);
		else printf("%ld %s %ld\n", k, recs[byprice[k]].name, recs[byprice[k]].price);
	} else {
		printf("bad request\n");
	}
	fflush(stdout);
}

int main(int argc, char **argv) {
	int n = argc > 1 ? atoi(argv[1]) : 100000;
	if (n < 1) n = 1;
	unsigned sum = boot(n);
	fprintf(stderr, "ready %08x\n", sum);
	char buf[4096];
	size_t have = 0;
	for (;;) {
		ssize_t got = read(0, buf + have, sizeof buf - 1 - have);
		if (got <= 0) return 0; /* end of input */
		have += (size_t)got;
		buf[have] = 0;
		char *line = buf, *nl;
		while ((nl = strchr(line, '\n')) != NULL) {
			*nl = 0;
			if (strcmp(line, "quit") == 0) return 0;
			serve_line(line);
			line = nl + 1;
		}
		have = strlen(line);
		memmove(buf, line, have);
		if (have == sizeof buf - 1) have = 0; /* an over-long line: dropped */
	}
}
