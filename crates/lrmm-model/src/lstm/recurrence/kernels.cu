// The LSTM recurrence's per-step kernels for lrmm's CUDA text encoder (the host side is
// recurrence/cuda.rs; the algorithm and its CPU reference are in recurrence.rs). One thread per
// (row, hidden unit) of one step, so a step is ONE launch after its cuBLAS product. Gate order is
// (i, f, g, o), PyTorch's. All buffers are row-major and time-major: step t, row b at t·B + b.

__device__ __forceinline__ float sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }

// Step `step` forward. `gates` holds h_{t-1} W_hhᵀ on entry (nothing at step 0, where h_{-1} = 0)
// and the activated gates on return; `cells` and `states` receive c_t and h_t.
//   input   [T·B, 4H]  every step's x W_ihᵀ, without the bias
//   bias    [4H]
//   gates   [T·B, 4H] when `gates_per_step` (training: kept for the backward), else [B, 4H]
//   cells   [T·B, H]
//   states  [T·B, H]   the encoder's output
extern "C" __global__ void lstm_step_forward(const float* __restrict__ input,
                                             const float* __restrict__ bias,
                                             float* __restrict__ gates,
                                             float* __restrict__ cells,
                                             float* __restrict__ states,
                                             const int batch, const int hidden, const int step,
                                             const int gates_per_step) {
    const long long units = (long long)batch * hidden;
    const long long h4 = 4LL * hidden;
    const long long at = (long long)step * units;
    float* step_gates = gates + (gates_per_step ? (long long)step * batch * h4 : 0LL);
    const float* step_input = input + (long long)step * batch * h4;
    for (long long u = blockIdx.x * (long long)blockDim.x + threadIdx.x; u < units;
         u += (long long)blockDim.x * gridDim.x) {
        const long long row = u / hidden, j = u - row * hidden;
        const long long g0 = row * h4 + j;
        float z[4];
#pragma unroll
        for (int k = 0; k < 4; ++k) {
            const long long gk = g0 + k * hidden;
            z[k] = step_input[gk] + bias[k * hidden + j] + (step > 0 ? step_gates[gk] : 0.0f);
        }
        const float i = sigmoid(z[0]), f = sigmoid(z[1]), g = tanhf(z[2]), o = sigmoid(z[3]);
        const float c_prev = step > 0 ? cells[at - units + u] : 0.0f;
        const float c = f * c_prev + i * g;
        step_gates[g0] = i;
        step_gates[g0 + hidden] = f;
        step_gates[g0 + 2 * hidden] = g;
        step_gates[g0 + 3 * hidden] = o;
        cells[at + u] = c;
        states[at + u] = o * tanhf(c);
    }
}

// Step `step` backward, the mirror of the forward: dL/dh_t is the pooling's gradient of h_t plus
// dZ_{t+1} W_hh (`d_hidden`, which the host's cuBLAS product wrote after step t+1's kernel; zeros
// at the last step). `d_cell` holds dL/dc_t from the later steps on entry and dL/dc_{t-1} on return.
//   d_states [T·B, H]   dL/dh_t from the pooling
//   d_hidden [B, H]
//   gates    [T·B, 4H]  activated gates of the forward
//   cells    [T·B, H]
//   d_cell   [B, H]
//   d_gates  [T·B, 4H]  dL/dz_t, the pre-activation gradients (out)
extern "C" __global__ void lstm_step_backward(const float* __restrict__ d_states,
                                              const float* __restrict__ d_hidden,
                                              const float* __restrict__ gates,
                                              const float* __restrict__ cells,
                                              float* __restrict__ d_cell,
                                              float* __restrict__ d_gates,
                                              const int batch, const int hidden, const int step) {
    const long long units = (long long)batch * hidden;
    const long long h4 = 4LL * hidden;
    const long long at = (long long)step * units;
    const float* step_gates = gates + (long long)step * batch * h4;
    float* step_d_gates = d_gates + (long long)step * batch * h4;
    for (long long u = blockIdx.x * (long long)blockDim.x + threadIdx.x; u < units;
         u += (long long)blockDim.x * gridDim.x) {
        const long long row = u / hidden, j = u - row * hidden;
        const long long g0 = row * h4 + j;
        const float i = step_gates[g0], f = step_gates[g0 + hidden];
        const float g = step_gates[g0 + 2 * hidden], o = step_gates[g0 + 3 * hidden];
        const float c_prev = step > 0 ? cells[at - units + u] : 0.0f;
        const float t = tanhf(cells[at + u]);
        const float dh = d_states[at + u] + d_hidden[u];
        const float dc = d_cell[u] + dh * o * (1.0f - t * t);
        step_d_gates[g0] = dc * g * i * (1.0f - i);
        step_d_gates[g0 + hidden] = dc * c_prev * f * (1.0f - f);
        step_d_gates[g0 + 2 * hidden] = dc * i * (1.0f - g * g);
        step_d_gates[g0 + 3 * hidden] = dh * t * o * (1.0f - o);
        d_cell[u] = dc * f;
    }
}
