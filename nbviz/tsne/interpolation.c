/* Spreading unit charges onto the FFT repulsion's node grid, and reading fields back at the
 * points, for 2-D and 3-D float32 layouts (see nbviz/tsne/fft_repulsion.py).
 *
 * Per point i and axis a: s = (y_ia - low) / box, box b_a = clamp(floor(s), 0, n_boxes - 1),
 * local t = s - b_a, and the p Lagrange weights L_k(t) = prod_{l != k} (t - s_l) / (s_k - s_l)
 * for the nodes s_k = (k + 1/2) / p. The grid has nodes = n_boxes p points per axis, row-major
 * with axis 0 slowest; the point's node (k_0, .., k_{d-1}) is at sum_a (p b_a + k_a) nodes^(d-1-a)
 * and has weight prod_a L_{k_a}(t_a).
 *   spread: grid[node] += weight, for every point and node (serial: points share nodes).
 *   gather: out[i, c] = sum_nodes weight fields[c, node], rows [start, stop) shared among
 *           `threads` OpenMP threads when built with -fopenmp.
 */
#include <math.h>
#include <stdint.h>

#define MAX_NODES_PER_AXIS 8
#define MAX_DIM 3

typedef struct {
    int64_t first; /* flat index of the point's first node */
    float weights[MAX_DIM][MAX_NODES_PER_AXIS];
} Stencil;

static void lagrange_scales(int p, float *scales)
{
    for (int k = 0; k < p; ++k) {
        double product = 1.0;
        for (int l = 0; l < p; ++l)
            if (l != k)
                product *= (k + 0.5) / p - (l + 0.5) / p;
        scales[k] = (float)(1.0 / product);
    }
}

static void stencil(const float *point, int dim, float low, float box, int64_t n_boxes, int p,
                    const int64_t *strides, const float *scales, Stencil *out)
{
    out->first = 0;
    for (int a = 0; a < dim; ++a) {
        const float s = (point[a] - low) / box;
        float b = floorf(s);
        b = b < 0.0f ? 0.0f : (b > (float)(n_boxes - 1) ? (float)(n_boxes - 1) : b);
        const float t = s - b;
        out->first += (int64_t)b * p * strides[a];
        for (int k = 0; k < p; ++k) {
            float product = scales[k];
            for (int l = 0; l < p; ++l)
                if (l != k)
                    product *= t - (float)((l + 0.5) / p);
            out->weights[a][k] = product;
        }
    }
}

static void grid_strides(int dim, int64_t nodes, int64_t *strides)
{
    int64_t stride = 1;
    for (int a = dim - 1; a >= 0; --a) {
        strides[a] = stride;
        stride *= nodes;
    }
}

void nbviz_spread(const float *y, int64_t n_points, int dim, float low, float box, int64_t n_boxes,
                  int p, float *grid)
{
    int64_t strides[MAX_DIM];
    float scales[MAX_NODES_PER_AXIS];
    grid_strides(dim, n_boxes * p, strides);
    lagrange_scales(p, scales);
    Stencil st;
    for (int64_t i = 0; i < n_points; ++i) {
        stencil(y + i * dim, dim, low, box, n_boxes, p, strides, scales, &st);
        if (dim == 2) {
            for (int k0 = 0; k0 < p; ++k0) {
                float *row = grid + st.first + k0 * strides[0];
                for (int k1 = 0; k1 < p; ++k1)
                    row[k1] += st.weights[0][k0] * st.weights[1][k1];
            }
        } else {
            for (int k0 = 0; k0 < p; ++k0)
                for (int k1 = 0; k1 < p; ++k1) {
                    float *row = grid + st.first + k0 * strides[0] + k1 * strides[1];
                    const float w01 = st.weights[0][k0] * st.weights[1][k1];
                    for (int k2 = 0; k2 < p; ++k2)
                        row[k2] += w01 * st.weights[2][k2];
                }
        }
    }
}

void nbviz_gather(const float *y, int dim, float low, float box, int64_t n_boxes, int p,
                  const float *fields, int64_t start, int64_t stop, float *out, int threads)
{
    int64_t strides[MAX_DIM];
    float scales[MAX_NODES_PER_AXIS];
    const int64_t nodes = n_boxes * p;
    const int64_t cells = dim == 2 ? nodes * nodes : nodes * nodes * nodes;
    grid_strides(dim, nodes, strides);
    lagrange_scales(p, scales);
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t i = start; i < stop; ++i) {
        Stencil st;
        stencil(y + i * dim, dim, low, box, n_boxes, p, strides, scales, &st);
        for (int c = 0; c < dim; ++c) {
            const float *field = fields + c * cells + st.first;
            float sum = 0.0f;
            if (dim == 2) {
                for (int k0 = 0; k0 < p; ++k0)
                    for (int k1 = 0; k1 < p; ++k1)
                        sum += st.weights[0][k0] * st.weights[1][k1] * field[k0 * strides[0] + k1];
            } else {
                for (int k0 = 0; k0 < p; ++k0)
                    for (int k1 = 0; k1 < p; ++k1) {
                        const float w01 = st.weights[0][k0] * st.weights[1][k1];
                        for (int k2 = 0; k2 < p; ++k2)
                            sum += w01 * st.weights[2][k2] * field[k0 * strides[0] + k1 * strides[1] + k2];
                    }
            }
            out[i * dim + c] = sum;
        }
    }
}
