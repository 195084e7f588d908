/* sort: quicksort (median of three, insertion sort for small ranges) of
 * pseudo-random 32-bit integers. Measures data-dependent branches. */
#include "rt.h"

#define MAX_N (1u << 20)
static int a[MAX_N];

static void insertion(int *v, int lo, int hi) {
	for (int i = lo + 1; i <= hi; i++) {
		int x = v[i], j = i - 1;
		while (j >= lo && v[j] > x) { v[j + 1] = v[j]; j--; }
		v[j + 1] = x;
	}
}

static void swap(int *v, int i, int j) { int t = v[i]; v[i] = v[j]; v[j] = t; }

static void quicksort(int *v, int lo, int hi) {
	while (hi - lo > 16) {
		int mid = lo + (hi - lo) / 2;
		if (v[mid] < v[lo]) swap(v, mid, lo);
		if (v[hi] < v[lo]) swap(v, hi, lo);
		if (v[hi] < v[mid]) swap(v, hi, mid);
		int pivot = v[mid];
		int i = lo, j = hi;
		while (i <= j) {
			while (v[i] < pivot) i++;
			while (v[j] > pivot) j--;
			if (i <= j) { swap(v, i, j); i++; j--; }
		}
		/* Recurse into the smaller half so the depth stays logarithmic. */
		if (j - lo < hi - i) { quicksort(v, lo, j); lo = i; }
		else { quicksort(v, i, hi); hi = j; }
	}
	insertion(v, lo, hi);
}

/* run(n) sorts n pseudo-random ints (n clamped to MAX_N) and returns a
 * position-weighted checksum, or 0xFFFFFFFF if the result is not sorted. */
EXPORT("run") u32 run(u32 n) {
	if (n > MAX_N) n = MAX_N;
	u32 seed = 2463534242u;
	for (u32 i = 0; i < n; i++) a[i] = (int)xorshift32(&seed);
	if (n > 1) quicksort(a, 0, (int)n - 1);
	u32 sum = 0;
	for (u32 i = 0; i < n; i++) {
		if (i > 0 && a[i - 1] > a[i]) return 0xFFFFFFFFu;
		sum = sum * 31 + (u32)a[i];
	}
	return sum;
}
