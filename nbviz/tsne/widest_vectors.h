/* WIDEST_VECTORS before a function compiles it for AVX-512 and AVX2 as well as the portable
 * default, and the widest the CPU runs is picked when the library loads (GNU function
 * multiversioning, x86-64 Linux with gcc or clang). Where the toolchain lacks it the build
 * retries with NBVIZ_ONE_TARGET defined (see native.py) and the functions get the default only.
 */
#ifndef NBVIZ_WIDEST_VECTORS_H
#define NBVIZ_WIDEST_VECTORS_H

#if defined(__x86_64__) && defined(__GNUC__) && defined(__linux__) && !defined(NBVIZ_ONE_TARGET)
#define WIDEST_VECTORS __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define WIDEST_VECTORS
#endif

#endif
