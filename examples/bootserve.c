// bootserve: a server that is slow to boot and quick to answer, the case
// idle checkpoints are for (README "Boot once, restore per request";
// cmd/ferry TestExampleBootserve runs it end to end).
//
// Booting builds what a real app builds before it serves: a prime sieve,
// a dictionary of generated words (a hash table), and an index parsed
// from a generated "key=value;" text. Then it says "ready" on stderr and
// answers one request per line of standard input until end of input:
//
//   prime N   whether N is prime, and how many primes are at most N
//   word W    how often the dictionary holds W
//   nth K     the K-th word generated
//   key K     the value the parsed index holds for key K
//
// Everything is computed from fixed seeds, so answers depend on the
// requests alone: a restored server answers exactly as the booted one.
// The first argument scales the boot (default 2: about 1.4 s of CPU in
// ferry run; the test uses 1).
//
// Build: clang --target=wasm32-wasi -O2 -Wall -o bootserve.wasm bootserve.c
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned scale = 2;

// Primes up to sieve_n, and the count at or below each N by prefix sums
// of 64-bit words.
static unsigned sieve_n;
static unsigned char *composite;

static void build_sieve(void) {
	sieve_n = 1000000u * scale;
	composite = calloc(sieve_n + 1, 1);
	composite[0] = composite[1] = 1;
	for (unsigned i = 2; (unsigned long long)i * i <= sieve_n; i++)
		if (!composite[i])
			for (unsigned j = i * i; j <= sieve_n; j += i)
				composite[j] = 1;
}

static unsigned primes_upto(unsigned n) {
	unsigned c = 0;
	for (unsigned i = 2; i <= n && i <= sieve_n; i++)
		c += !composite[i];
	return c;
}

// The dictionary: words from a linear congruential generator, counted in
// an open-addressing hash table whose keys live in one arena.
static unsigned long long rng = 0x9e3779b97f4a7c15ull;

static unsigned next_rand(void) {
	rng = rng * 6364136223846793005ull + 1442695040888963407ull;
	return (unsigned)(rng >> 33);
}

static unsigned nwords, nslots;
static char *arena;
static unsigned *word_at;   // word k starts at arena + word_at[k]
static unsigned *slot_word; // slot -> word index + 1, 0 if empty
static unsigned *slot_count;

static unsigned hash(const char *s) {
	unsigned h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static unsigned *lookup(const char *w) {
	for (unsigned i = hash(w) & (nslots - 1);; i = (i + 1) & (nslots - 1)) {
		unsigned k = slot_word[i];
		if (k == 0 || strcmp(arena + word_at[k - 1], w) == 0)
			return &slot_word[i];
	}
}

static void build_dictionary(void) {
	nwords = 60000u * scale;
	for (nslots = 1; nslots < 2 * nwords; nslots *= 2)
		;
	arena = malloc((size_t)nwords * 8);
	word_at = malloc(nwords * sizeof *word_at);
	slot_word = calloc(nslots, sizeof *slot_word);
	slot_count = calloc(nslots, sizeof *slot_count);
	unsigned used = 0;
	for (unsigned k = 0; k < nwords; k++) {
		unsigned len = 3 + next_rand() % 4;
		char *w = arena + used;
		for (unsigned j = 0; j < len; j++)
			w[j] = "etaoinshrdlucmfw"[next_rand() % 16];
		w[len] = 0;
		word_at[k] = used;
		used += len + 1;
		unsigned *slot = lookup(w);
		if (*slot == 0)
			*slot = k + 1;
		slot_count[slot - slot_word]++;
	}
}

// The index: a text of "kNNN=VVV;" pairs, generated then parsed back, the
// way an app parses its configuration or templates at start-up.
static unsigned nkeys;
static unsigned *key_value;

static void build_index(void) {
	nkeys = 20000u * scale;
	size_t cap = (size_t)nkeys * 3 * 24;
	char *text = malloc(cap), *p = text;
	for (unsigned i = 0; i < nkeys * 3; i++)
		p += sprintf(p, "k%u=%u;", next_rand() % nkeys, next_rand() % 1000000);
	key_value = calloc(nkeys, sizeof *key_value);
	for (char *q = text; q < p;) {
		char *end;
		unsigned long k = strtoul(q + 1, &end, 10);
		unsigned long v = strtoul(end + 1, &end, 10);
		key_value[k] = key_value[k] * 31u + (unsigned)v;
		q = end + 1;
	}
	free(text);
}

int main(int argc, char **argv) {
	if (argc > 1)
		scale = (unsigned)atoi(argv[1]);
	if (scale < 1)
		scale = 1;
	build_sieve();
	build_dictionary();
	build_index();
	fprintf(stderr, "ready\n");

	char line[256];
	unsigned served = 0;
	while (fgets(line, sizeof line, stdin) != NULL) {
		line[strcspn(line, "\r\n")] = 0;
		char *arg = strchr(line, ' ');
		if (arg)
			*arg++ = 0;
		else
			arg = "";
		served++;
		if (strcmp(line, "prime") == 0) {
			unsigned n = (unsigned)strtoul(arg, NULL, 10);
			if (n > sieve_n)
				printf("%u: prime %u: beyond %u\n", served, n, sieve_n);
			else
				printf("%u: prime %u: %s, %u primes <= %u\n", served, n, composite[n] ? "no" : "yes", primes_upto(n), n);
		} else if (strcmp(line, "word") == 0) {
			unsigned *slot = lookup(arg);
			printf("%u: word %s: %u\n", served, arg, *slot ? slot_count[slot - slot_word] : 0);
		} else if (strcmp(line, "nth") == 0) {
			unsigned k = (unsigned)strtoul(arg, NULL, 10);
			printf("%u: nth %u: %s\n", served, k, k < nwords ? arena + word_at[k] : "-");
		} else if (strcmp(line, "key") == 0) {
			unsigned k = (unsigned)strtoul(arg, NULL, 10);
			printf("%u: key %u: %u\n", served, k, k < nkeys ? key_value[k] : 0);
		} else {
			printf("%u: unknown request %s\n", served, line);
		}
		fflush(stdout);
	}
	return 0;
}
