/*
 * datapipe: a small whole-program WASI benchmark in portable C (wasi-libc:
 * malloc, qsort, memcmp, printf). It generates pseudo-text, compresses it
 * with an LZ77 coder, decompresses and verifies it, hashes everything with
 * CRC-32 and FNV-1a, counts words in a hash table, sorts words and numbers
 * with qsort, and prints checksums to stdout. Only fixed-width integer types
 * are used, so a native build (gcc datapipe.c) prints exactly the same.
 *
 * Usage: datapipe [KIB]   (KiB of text to generate, default 64; KIB*256
 * numbers are sorted)
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t rng = 2463534242u;

static uint32_t xorshift32(void) {
	uint32_t x = rng;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return rng = x;
}

static const char *const vocab[] = {
	"ferry", "river", "harbour", "wasm", "module", "memory", "table", "global",
	"stack", "frame", "pause", "resume", "checkpoint", "host", "guest", "trap",
	"branch", "loop", "block", "call", "return", "select", "load", "store",
	"the", "a", "of", "and", "to", "in", "is", "it", "that", "with", "for", "on",
	"interpreter", "compiler", "register", "opcode", "validate", "decode",
	"export", "import", "instance", "runtime", "sandbox", "preopen", "clock",
	"random", "socket", "directory", "file", "descriptor", "errno", "exit",
};
#define NVOCAB (sizeof vocab / sizeof vocab[0])

/* gen fills buf with n bytes of words separated by spaces and newlines,
 * Zipf-like: low vocabulary indices are more frequent. */
static void gen(uint8_t *buf, uint32_t n) {
	uint32_t i = 0, col = 0;
	while (i < n) {
		uint32_t r = xorshift32();
		uint32_t k = (r % NVOCAB) * ((r >> 8) % NVOCAB) / NVOCAB;
		if ((r >> 20) % 97 == 0) {
			/* an occasional number, poorly compressible */
			char num[16];
			int len = snprintf(num, sizeof num, "%" PRIu32, xorshift32() % 1000000u);
			for (int j = 0; j < len && i < n; j++)
				buf[i++] = (uint8_t)num[j];
		} else {
			const char *w = vocab[k];
			while (*w && i < n)
				buf[i++] = (uint8_t)*w++;
		}
		col++;
		if (i < n)
			buf[i++] = (col % 12 == 0) ? '\n' : ' ';
	}
}

/* ---- CRC-32 (IEEE, reflected) and FNV-1a ---- */

static uint32_t crc_table[256];

static void crc_init(void) {
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

static uint32_t crc32(const uint8_t *p, uint32_t n) {
	uint32_t c = 0xFFFFFFFFu;
	for (uint32_t i = 0; i < n; i++)
		c = crc_table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
	return c ^ 0xFFFFFFFFu;
}

static uint64_t fnv1a64(const uint8_t *p, uint32_t n) {
	uint64_t h = 14695981039346656037ull;
	for (uint32_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 1099511628211ull;
	}
	return h;
}

/* ---- LZ77: tokens are a literal run or a (length, distance) match ----
 * Format: control byte c. c < 128: c+1 literals follow. c >= 128: a match
 * of length (c - 128) + MINMATCH, then a 16-bit little-endian distance. */

#define MINMATCH 4
#define MAXMATCH (127 + MINMATCH)
#define WINDOW 65535u
#define HBITS 15

static uint32_t hash4(const uint8_t *p) {
	uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
	return (v * 2654435761u) >> (32 - HBITS);
}

static uint32_t lz_compress(const uint8_t *in, uint32_t n, uint8_t *out) {
	int32_t *head = malloc(sizeof(int32_t) << HBITS);
	int32_t *prev = malloc(sizeof(int32_t) * (n ? n : 1));
	for (uint32_t i = 0; i < (1u << HBITS); i++)
		head[i] = -1;
	uint32_t o = 0, i = 0, lit = 0; /* lit: start of the pending literal run */
	while (i < n) {
		uint32_t best = 0, bestd = 0;
		if (i + MINMATCH <= n) {
			uint32_t h = hash4(in + i);
			int32_t cand = head[h];
			int chain = 16;
			while (cand >= 0 && i - (uint32_t)cand <= WINDOW && chain-- > 0) {
				uint32_t l = 0, max = n - i < MAXMATCH ? n - i : MAXMATCH;
				while (l < max && in[cand + l] == in[i + l])
					l++;
				if (l > best) {
					best = l;
					bestd = i - (uint32_t)cand;
					if (l == max)
						break;
				}
				cand = prev[cand];
			}
			prev[i] = head[h];
			head[h] = (int32_t)i;
		}
		if (best >= MINMATCH) {
			while (lit < i) {
				uint32_t run = i - lit > 128 ? 128 : i - lit;
				out[o++] = (uint8_t)(run - 1);
				memcpy(out + o, in + lit, run);
				o += run;
				lit += run;
			}
			out[o++] = (uint8_t)(128 + best - MINMATCH);
			out[o++] = (uint8_t)(bestd & 0xFF);
			out[o++] = (uint8_t)(bestd >> 8);
			/* index the skipped positions too */
			for (uint32_t j = i + 1; j < i + best && j + MINMATCH <= n; j++) {
				uint32_t h = hash4(in + j);
				prev[j] = head[h];
				head[h] = (int32_t)j;
			}
			i += best;
			lit = i;
		} else {
			i++;
		}
	}
	while (lit < n) {
		uint32_t run = n - lit > 128 ? 128 : n - lit;
		out[o++] = (uint8_t)(run - 1);
		memcpy(out + o, in + lit, run);
		o += run;
		lit += run;
	}
	free(prev);
	free(head);
	return o;
}

static uint32_t lz_decompress(const uint8_t *in, uint32_t n, uint8_t *out) {
	uint32_t i = 0, o = 0;
	while (i < n) {
		uint8_t c = in[i++];
		if (c < 128) {
			memcpy(out + o, in + i, (uint32_t)c + 1);
			i += (uint32_t)c + 1;
			o += (uint32_t)c + 1;
		} else {
			uint32_t len = (uint32_t)c - 128 + MINMATCH;
			uint32_t d = (uint32_t)in[i] | (uint32_t)in[i + 1] << 8;
			i += 2;
			for (uint32_t k = 0; k < len; k++, o++)
				out[o] = out[o - d]; /* overlapping copies are intended */
		}
	}
	return o;
}

/* ---- word counting: open addressing over (offset, length) keys ---- */

struct word {
	uint32_t off, len, count;
};

static const uint8_t *text;

static int cmp_word(const void *a, const void *b) {
	const struct word *x = a, *y = b;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	uint32_t m = x->len < y->len ? x->len : y->len;
	int c = memcmp(text + x->off, text + y->off, m);
	if (c)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

static int cmp_u32(const void *a, const void *b) {
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
	uint32_t kib = argc > 1 ? (uint32_t)strtoul(argv[1], 0, 10) : 64;
	if (kib == 0 || kib > 65536)
		kib = 64;
	const uint32_t n = kib * 1024u;
	crc_init();

	uint8_t *data = malloc(n);
	gen(data, n);
	printf("generated %" PRIu32 " bytes crc32=%08" PRIx32 " fnv1a=%016" PRIx64 "\n", n, crc32(data, n), fnv1a64(data, n));

	uint8_t *comp = malloc(n + n / 64 + 16);
	uint32_t clen = lz_compress(data, n, comp);
	uint8_t *back = malloc(n);
	uint32_t dlen = lz_decompress(comp, clen, back);
	int ok = dlen == n && memcmp(back, data, n) == 0;
	printf("lz77 %" PRIu32 " -> %" PRIu32 " bytes (%.1f%%) crc32=%08" PRIx32 " roundtrip=%s\n",
	       n, clen, 100.0 * clen / n, crc32(comp, clen), ok ? "ok" : "MISMATCH");

	/* count words */
	uint32_t cap = 1u << 12, nwords = 0, total = 0;
	while (cap < n / 128)
		cap <<= 1; /* numbers are ~1 word in 600 bytes, so at most half full */
	struct word *tab = calloc(cap, sizeof *tab);
	text = data;
	for (uint32_t i = 0; i < n;) {
		while (i < n && (data[i] == ' ' || data[i] == '\n'))
			i++;
		uint32_t s = i;
		while (i < n && data[i] != ' ' && data[i] != '\n')
			i++;
		if (i == s)
			break;
		uint32_t h = (uint32_t)fnv1a64(data + s, i - s) & (cap - 1);
		for (;;) {
			struct word *w = &tab[h];
			if (w->count == 0) {
				w->off = s, w->len = i - s, w->count = 1;
				nwords++;
				break;
			}
			if (w->len == i - s && memcmp(data + w->off, data + s, w->len) == 0) {
				w->count++;
				break;
			}
			h = (h + 1) & (cap - 1);
		}
		total++;
		if (nwords * 2 > cap) {
			fprintf(stderr, "word table full\n");
			return 1;
		}
	}
	struct word *list = malloc(nwords * sizeof *list);
	uint32_t k = 0;
	for (uint32_t i = 0; i < cap; i++)
		if (tab[i].count)
			list[k++] = tab[i];
	qsort(list, nwords, sizeof *list, cmp_word);
	printf("words %" PRIu32 " distinct %" PRIu32 " top:", total, nwords);
	for (uint32_t i = 0; i < 5 && i < nwords; i++)
		printf(" %.*s=%" PRIu32, (int)list[i].len, (const char *)data + list[i].off, list[i].count);
	printf("\n");

	/* sort numbers */
	uint32_t m = kib * 256u;
	uint32_t *nums = malloc(m * sizeof *nums);
	for (uint32_t i = 0; i < m; i++)
		nums[i] = xorshift32();
	qsort(nums, m, sizeof *nums, cmp_u32);
	uint32_t sorted = 1, sum = 0;
	for (uint32_t i = 0; i < m; i++) {
		if (i && nums[i - 1] > nums[i])
			sorted = 0;
		sum = sum * 31 + nums[i];
	}
	printf("sorted %" PRIu32 " numbers ok=%" PRIu32 " checksum=%08" PRIx32 " median=%" PRIu32 "\n", m, sorted, sum, nums[m / 2]);

	uint32_t final = crc32(comp, clen) ^ sum ^ (uint32_t)fnv1a64(data, n) ^ nwords;
	printf("checksum %08" PRIx32 "\n", final);
	free(nums);
	free(list);
	free(tab);
	free(back);
	free(comp);
	free(data);
	return ok && sorted ? 0 : 1;
}
