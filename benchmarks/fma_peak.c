/* The CPU's clock and FP32 FMA rate under load, measured (x86-64, GCC or Clang).

   The peak that cpu_peak.py estimates rests on a clock that a virtual machine
   may not report and on a count of FMA units per core. This program measures
   both on every core at once: a chain of dependent integer additions (one per
   cycle) gives the clock; twelve independent chains of FMAs per core, with
   256-bit (AVX2) and with 512-bit (AVX-512) registers, give the FLOP/s.

       gcc -O3 -funroll-loops -fopenmp benchmarks/fma_peak.c -o /tmp/fma_peak
       /tmp/fma_peak      # then: training_throughput.py --clock-mhz <MHz>
*/
#include <immintrin.h>
#include <omp.h>
#include <stdio.h>
#include <time.h>

#define CHAINS 12
#define ITERATIONS 200000000L

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

__attribute__((target("avx512f"))) static float fma512(long iterations) {
    __m512 acc[CHAINS], b = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
    for (int i = 0; i < CHAINS; i++) acc[i] = _mm512_set1_ps((float)i);
    for (long k = 0; k < iterations; k++)
        for (int i = 0; i < CHAINS; i++) acc[i] = _mm512_fmadd_ps(acc[i], b, c);
    float sum = 0;
    for (int i = 0; i < CHAINS; i++) sum += _mm512_reduce_add_ps(acc[i]);
    return sum;
}

__attribute__((target("avx2,fma"))) static float fma256(long iterations) {
    __m256 acc[CHAINS], b = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
    for (int i = 0; i < CHAINS; i++) acc[i] = _mm256_set1_ps((float)i);
    for (long k = 0; k < iterations; k++)
        for (int i = 0; i < CHAINS; i++) acc[i] = _mm256_fmadd_ps(acc[i], b, c);
    float lanes[8], sum = 0;
    for (int i = 0; i < CHAINS; i++) {
        _mm256_storeu_ps(lanes, acc[i]);
        for (int j = 0; j < 8; j++) sum += lanes[j];
    }
    return sum;
}

static long additions(long iterations) {
    long x = 0;
    for (long k = 0; k < iterations; k++)
        __asm__ volatile("add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0"
                         : "+r"(x));
    return x;
}

int main(void) {
    int threads = omp_get_max_threads();
    double start = now(), sink = 0;
#pragma omp parallel reduction(+ : sink)
    sink += additions(2 * ITERATIONS);
    double clock = 8.0 * ITERATIONS / (now() - start);
    printf("%d threads; clock under load: %.0f MHz per core\n", threads, clock / 1e6);
    for (int width = 256; width <= 512; width += 256) {
        if (width == 512 && !__builtin_cpu_supports("avx512f")) break;
        if (width == 256 && !__builtin_cpu_supports("fma")) continue;
        start = now();
#pragma omp parallel reduction(+ : sink)
        sink += width == 512 ? fma512(ITERATIONS) : fma256(ITERATIONS);
        double per_core = ITERATIONS * CHAINS * (width / 32) * 2.0 / (now() - start);
        printf("%d-bit FMA: %.1f GFLOP/s per core, %.1f in all, %.1f FLOP/cycle\n",
               width, per_core / 1e9, threads * per_core / 1e9, per_core / clock);
    }
    return sink == 42.0;  /* Uses the results, so that no loop is optimized away. */
}
