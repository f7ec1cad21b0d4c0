// Runs kernels.cu on the host, for a test on machines without a GPU (recurrence/emulation.rs):
// the CUDA built-ins become plain variables, every thread of a launch runs in turn (the kernels
// share nothing between threads: each (row, unit) is written by one thread), and cuBLAS's sgemm
// becomes a naive column-major product taking the host code's configuration.
//
// usage: emulate_kernels DIR BATCH STEPS HIDDEN BLOCKS THREADS REC(8 ints) GRAD(8 ints)
//   where a product is TRANSA TRANSB M N K LDA LDB LDC. Reads DIR/in.f32 (inputs [T·B, 4H],
//   W_hh [4H, H], bias [4H], d_states [T·B, H]); writes DIR/out.f32 (the training forward's
//   states [T·B, H], the inference forward's states [T·B, H], d_gates [T·B, 4H]).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <vector>

struct Dim3 {
    unsigned x, y, z;
};
static Dim3 blockIdx{0, 0, 0}, blockDim{1, 1, 1}, threadIdx{0, 0, 0}, gridDim{1, 1, 1};
#define __global__
#define __device__
#define __forceinline__ inline
#define __restrict__ __restrict

#include "kernels.cu"

// TRANSA TRANSB M N K LDA LDB LDC, in the order the test passes them.
struct Product {
    int transa, transb, m, n, k, lda, ldb, ldc;
    static Product parse(char** args) {
        int v[8];
        for (int f = 0; f < 8; ++f) v[f] = atoi(args[f]);
        return {v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]};
    }
};

// C = op(A) · op(B), column-major, beta 0: cublasSgemm's meaning of the configuration.
static void sgemm(const Product& p, const float* a, const float* b, float* c) {
    for (int j = 0; j < p.n; ++j)
        for (int i = 0; i < p.m; ++i) {
            double sum = 0;
            for (int q = 0; q < p.k; ++q) {
                const float x = p.transa ? a[q + (long)i * p.lda] : a[i + (long)q * p.lda];
                const float y = p.transb ? b[j + (long)q * p.ldb] : b[q + (long)j * p.ldb];
                sum += (double)x * y;
            }
            c[i + (long)j * p.ldc] = (float)sum;
        }
}

template <typename Kernel>
static void launch(unsigned blocks, unsigned threads, Kernel kernel) {
    gridDim = {blocks, 1, 1};
    blockDim = {threads, 1, 1};
    for (unsigned b = 0; b < blocks; ++b)
        for (unsigned t = 0; t < threads; ++t) {
            blockIdx = {b, 0, 0};
            threadIdx = {t, 0, 0};
            kernel();
        }
}

int main(int argc, char** argv) {
    if (argc != 23) {
        fprintf(stderr, "emulate_kernels: 22 arguments expected, got %d\n", argc - 1);
        return 2;
    }
    const char* dir = argv[1];
    const int batch = atoi(argv[2]), steps = atoi(argv[3]), hidden = atoi(argv[4]);
    const unsigned blocks = atoi(argv[5]), threads = atoi(argv[6]);
    const Product rec = Product::parse(argv + 7), grad = Product::parse(argv + 15);
    const long units = (long)batch * hidden, step_gates = 4 * units;
    std::vector<float> in(steps * step_gates + 4L * hidden * hidden + 4L * hidden + steps * units);
    char path[4096];
    snprintf(path, sizeof path, "%s/in.f32", dir);
    FILE* f = fopen(path, "rb");
    if (!f || fread(in.data(), sizeof(float), in.size(), f) != in.size()) {
        fprintf(stderr, "emulate_kernels: cannot read %s\n", path);
        return 2;
    }
    fclose(f);
    const float* inputs = in.data();
    const float* w_hh = inputs + steps * step_gates;
    const float* bias = w_hh + 4L * hidden * hidden;
    const float* d_states = bias + 4L * hidden;

    // The forward with every step's gates kept (training) and with one step's (inference).
    auto forward = [&](int per_step, std::vector<float>& gates, std::vector<float>& cells) {
        std::vector<float> states(steps * units);
        for (int s = 0; s < steps; ++s) {
            if (s > 0)
                sgemm(rec, w_hh, &states[(s - 1) * units], &gates[per_step ? s * step_gates : 0]);
            launch(blocks, threads, [&] {
                lstm_step_forward(inputs, bias, gates.data(), cells.data(), states.data(), batch,
                                  hidden, s, per_step);
            });
        }
        return states;
    };
    std::vector<float> gates(steps * step_gates), cells(steps * units);
    std::vector<float> one_step_gates(step_gates), other_cells(steps * units);
    const std::vector<float> trained = forward(1, gates, cells);
    const std::vector<float> inferred = forward(0, one_step_gates, other_cells);
    std::vector<float> d_gates(steps * step_gates), d_hidden(units), d_cell(units);
    for (int s = steps - 1; s >= 0; --s) {
        launch(blocks, threads, [&] {
            lstm_step_backward(d_states, d_hidden.data(), gates.data(), cells.data(), d_cell.data(),
                               d_gates.data(), batch, hidden, s);
        });
        if (s > 0) sgemm(grad, w_hh, &d_gates[s * step_gates], d_hidden.data());
    }
    std::vector<float> out(trained);
    out.insert(out.end(), inferred.begin(), inferred.end());
    out.insert(out.end(), d_gates.begin(), d_gates.end());
    snprintf(path, sizeof path, "%s/out.f32", dir);
    f = fopen(path, "wb");
    if (!f || fwrite(out.data(), sizeof(float), out.size(), f) != out.size()) {
        fprintf(stderr, "emulate_kernels: cannot write %s\n", path);
        return 2;
    }
    fclose(f);
    return 0;
}
