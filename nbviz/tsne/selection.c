/* The k nearest other points of every point, selected from tiles of dot products.
 *
 * The search (tiled_search.py) multiplies blocks of rows, G = X_a X_b^T, and hands each tile to
 * this file twice: its rows to the points of block a, its columns to the points of block b, so
 * that every pair's product is formed once. Point i ranks point j by
 *   s_ij = |x_j|^2 - 2 x_i.x_j,
 * its squared distance less |x_i|^2, which is the same for all its candidates.
 *
 * Each point keeps a reservoir of `capacity` (about 2k) candidates and a bound: the k-th smallest
 * score kept so far (+inf until the reservoir first fills). A candidate is stored only when it
 * scores below the bound; when the reservoir is full a quickselect keeps its k smallest and
 * the bound drops to the largest of them (data in no particular order compacts often, so the
 * quickselect runs without branches: see select_score). Most candidates of a large search fail
 * the bound, so the scan first tests LANES scores at once and looks at single scores only when
 * one passes.
 *
 * The scans are built for the widest vectors the CPU has (widest_vectors.h): at 70,000 x 50 a
 * scan that stores nothing took 0.87 s with AVX-512 instead of 1.38 s with the portable SSE2.
 *
 * Threads: with -fopenmp the rows (columns) of a tile are shared among `threads` OpenMP threads;
 * each point's reservoir is written by the one thread that owns its row (column). Built
 * without it, the caller runs disjoint ranges on Python threads (see native.py).
 */
#include <stdint.h>
#include <stdlib.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define LANES 16

#include "widest_vectors.h"

struct nbviz_reservoirs {
    float *score;      /* (N, capacity) */
    int32_t *index;    /* (N, capacity) */
    int32_t *fill;     /* (N,) entries in use */
    float *bound;      /* (N,) a score must be below it to enter */
    int32_t k;
    int32_t capacity;  /* > k */
};

/* The (target + 1)-th smallest of the n scores in `from` (n >= 1, from and into each n long,
 * both overwritten): quickselect whose passes copy out of place without branches. Each pass
 * writes every score to both ends of `into` and moves only the end it belongs to, so scores
 * below the pivot gather at the front, above it at the back, and equal ones are just counted;
 * the next pass reads the side holding the target. (The in-place Hoare partition it replaced
 * branched on every comparison: the whole neighbour step of the MiniLM vocabulary took 1.7 s
 * with it and 1.54 s with this, on 2 cores.) */
static float select_score(float *from, float *into, int64_t n, int64_t target)
{
    while (n > 16) {
        const float a = from[0], b = from[n / 2], c = from[n - 1];
        const float pivot = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
        int64_t below = 0, above = n;
        for (int64_t m = 0; m < n; ++m) {
            const float s = from[m];
            into[below] = s;
            into[above - 1] = s;
            below += s < pivot;
            above -= s > pivot;
        }
        if (target < below) {
            n = below;
        } else if (target < above) {
            return pivot;  /* the target is one of the scores equal to the pivot */
        } else {
            n -= above;
            target -= above;
            into += above;
        }
        float *read = into;
        into = from;
        from = read;
    }
    for (int64_t m = 1; m < n; ++m) {  /* insertion sort of the last few */
        const float s = from[m];
        int64_t p = m;
        for (; p > 0 && from[p - 1] > s; --p) from[p] = from[p - 1];
        from[p] = s;
    }
    return from[target];
}

#define SELECT_ON_STACK 1024

/* Reorder the `count` entries so that the `keep` smallest scores come first (ties at the
 * keep-th score broken by position); returns the largest score among those. The keep-th
 * smallest score t comes from select_score on a copy, then one forward pass keeps every entry
 * below t and the first (keep - #below) equal to it. */
static float keep_smallest(float *score, int32_t *index, int64_t count, int64_t keep)
{
    float stack[2 * SELECT_ON_STACK];
    float *work = count <= SELECT_ON_STACK ? stack : malloc(2 * (size_t)count * sizeof(float));
    if (work == NULL) abort();
    for (int64_t m = 0; m < count; ++m) work[m] = score[m];
    const float t = select_score(work, work + count, count, keep - 1);
    if (work != stack) free(work);
    int64_t below = 0;
    for (int64_t m = 0; m < count; ++m) below += score[m] < t;
    int64_t ties = keep - below, kept = 0;
    for (int64_t m = 0; m < count; ++m) {
        const float s = score[m];
        const int32_t j = index[m];
        const int tie = s == t && ties > 0;
        ties -= tie;
        score[kept] = s;
        index[kept] = j;
        kept += (s < t) | tie;
    }
    return t;
}

/* Store candidate j with score s for point i; returns the point's bound afterwards. */
static inline float offer(const struct nbviz_reservoirs *r, int64_t i, float s, int32_t j)
{
    float *score = r->score + i * r->capacity;
    int32_t *index = r->index + i * r->capacity;
    int32_t fill = r->fill[i];
    score[fill] = s;
    index[fill] = j;
    if (++fill == r->capacity) {
        r->bound[i] = keep_smallest(score, index, fill, r->k);
        fill = r->k;
    }
    r->fill[i] = fill;
    return r->bound[i];
}

/* Rows [start, stop) of the tile dots (rows x cols, row stride ld) are points row_ids[row], or
 * row0 + row when row_ids is NULL (the inverted-file search gathers its rows from anywhere);
 * column c is point col0 + c with squared norm col_sq_norms[c]. A point never takes itself (on
 * a diagonal tile, or a list holding the point that probes it). Each point may appear on at
 * most one row of a tile: its reservoir is then written by one thread. */
WIDEST_VECTORS
void nbviz_offer_rows(const float *dots, int64_t cols, int64_t ld, const float *col_sq_norms,
                      int64_t row0, const int32_t *row_ids, int64_t col0, int64_t start, int64_t stop,
                      const struct nbviz_reservoirs *r, int threads)
{
#pragma omp parallel for num_threads(threads) schedule(dynamic, 16)
    for (int64_t row = start; row < stop; ++row) {
        const int64_t i = row_ids ? (int64_t)row_ids[row] : row0 + row;
        const float *g = dots + row * ld;
        float bound = r->bound[i];
        for (int64_t c0 = 0; c0 < cols; c0 += LANES) {
            const int64_t c1 = c0 + LANES < cols ? c0 + LANES : cols;
            int passes = 0;
#pragma omp simd reduction(| : passes)
            for (int64_t c = c0; c < c1; ++c) passes |= col_sq_norms[c] - 2.0f * g[c] < bound;
            if (!passes) continue;
            for (int64_t c = c0; c < c1; ++c) {
                const float s = col_sq_norms[c] - 2.0f * g[c];
                if (s < bound && col0 + c != i) bound = offer(r, i, s, (int32_t)(col0 + c));
            }
        }
    }
}

/* Columns [start, stop) of the same tile, for the points col0 + c of block b, whose candidates
 * are the tile's rows (points row0 + row, squared norms row_sq_norms[row]). Each thread takes
 * a contiguous share of the columns and reads the tile row by row, testing LANES neighbouring
 * columns at once, each against its own point's bound: the same streaming reads as the row
 * pass. (Walking down one column group at a time read the tile with a stride of a row, and at
 * 70,000 x 50 spent most of its time waiting for those loads.) */
WIDEST_VECTORS
void nbviz_offer_columns(const float *dots, int64_t rows, int64_t ld, const float *row_sq_norms,
                         int64_t row0, int64_t col0, int64_t start, int64_t stop,
                         const struct nbviz_reservoirs *r, int threads)
{
#pragma omp parallel num_threads(threads)
    {
        int64_t low = start, high = stop;
#ifdef _OPENMP
        const int64_t team = omp_get_num_threads(), member = omp_get_thread_num();
        low = start + (stop - start) * member / team;
        high = start + (stop - start) * (member + 1) / team;
#endif
        const float *bound = r->bound + col0;
        for (int64_t row = 0; row < rows; ++row) {
            const float *g = dots + row * ld;
            const float norm = row_sq_norms[row];
            for (int64_t c0 = low; c0 < high; c0 += LANES) {
                const int64_t c1 = c0 + LANES < high ? c0 + LANES : high;
                int passes = 0;
#pragma omp simd reduction(| : passes)
                for (int64_t c = c0; c < c1; ++c) passes |= norm - 2.0f * g[c] < bound[c];
                if (!passes) continue;
                for (int64_t c = c0; c < c1; ++c) {
                    const float s = norm - 2.0f * g[c];
                    if (s < bound[c]) offer(r, col0 + c, s, (int32_t)(row0 + row));
                }
            }
        }
    }
}

/* Points [start, stop): leave each one's k best candidates first in its reservoir. */
void nbviz_finish_reservoirs(int64_t start, int64_t stop, const struct nbviz_reservoirs *r, int threads)
{
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t i = start; i < stop; ++i) {
        if (r->fill[i] > r->k) {
            r->bound[i] = keep_smallest(r->score + i * r->capacity, r->index + i * r->capacity, r->fill[i], r->k);
            r->fill[i] = r->k;
        }
    }
}
