// SPDX-License-Identifier: GPL-2.0
/*
 * Print the host's TSC frequency in kHz, measured against
 * CLOCK_MONOTONIC_RAW over about 400 ms.
 *
 * QEMU's TCG returns the host's TSC (plus an offset) for a guest RDTSC, so
 * this is also the test VM's TSC frequency.  scripts/boot passes it as
 * tsc_early_khz= because the guest's own PIT calibration fails when the
 * host is loaded, and a guest without a TSC frequency makes KVM_GET_TSC_KHZ
 * return 0, which fails every selftest.
 */
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <x86intrin.h>

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* One TSC/clock pair, taken with the tightest bracket of several tries. */
static void sample(uint64_t *tsc, double *ns)
{
	double best = 1e18;
	int i;

	for (i = 0; i < 50; i++) {
		uint64_t t0 = __rdtsc();
		double n = now_ns();
		uint64_t t1 = __rdtsc();

		if (t1 - t0 < best) {
			best = t1 - t0;
			*tsc = t0 + (t1 - t0) / 2;
			*ns = n;
		}
	}
}

int main(void)
{
	struct timespec pause = { 0, 400 * 1000 * 1000 };
	uint64_t t0, t1;
	double n0, n1;

	sample(&t0, &n0);
	nanosleep(&pause, NULL);
	sample(&t1, &n1);
	printf("%.0f\n", (t1 - t0) / (n1 - n0) * 1e6);
	return 0;
}
