// aeflow's native matMul: C = A·B for row-major float32 matrices, called by the WASM backend's BatchMatMul kernel
// (src/models/nativeMatMul.ts) on views of the WASM heap. Built when the package installs; where it cannot be
// built, training uses tfjs's own WASM matMul.
//
// One binary for any x86-64 CPU: each kernel is compiled for its instruction set (function target attributes) and
// the best one the CPU has is picked when the addon loads.
// - avx512: for each panel of 32 columns of B, blocks of 8 rows of A accumulate into 16 registers (8 rows × 2 × 16
//   floats); each step over k loads two vectors of B's row k and broadcasts one value of each row of A, with fused
//   multiply-adds. The panel (K × 32 floats) stays in cache while every row block of A goes by. Tails use masks.
// - avx2: the same scheme with 256-bit vectors (blocks of 8 rows × 16 columns).
// - portable: a plain loop, for other CPUs; aeflow does not use it (tfjs's WebAssembly SIMD matMul is as fast).
// Every kernel is exported on its own too (`kernels`), so the tests check each on any machine that can run it.
#include <node_api.h>

#include <cstddef>
#include <cstdint>

using Kernel = void (*)(const float* A, const float* B, float* C, int M, int K, int N);

static void gemmPortable(const float* A, const float* B, float* C, int M, int K, int N) {
  for (int i = 0; i < M; i++) {
    float* c = C + static_cast<size_t>(i) * N;
    for (int j = 0; j < N; j++) c[j] = 0.0f;
    for (int k = 0; k < K; k++) {
      const float x = A[static_cast<size_t>(i) * K + k];
      const float* b = B + static_cast<size_t>(k) * N;
      for (int j = 0; j < N; j++) c[j] += x * b[j];
    }
  }
}

#if defined(__x86_64__)
#include <immintrin.h>
#define AEFLOW_X86 1
#define AVX512 __attribute__((target("avx512f,fma")))
#define AVX2 __attribute__((target("avx2,fma")))

template <int R>
AVX512 static inline void block512(const float* a, const float* b, float* c, int K, int N, __mmask16 m0, __mmask16 m1) {
  __m512 acc[R][2];
#pragma GCC unroll 8
  for (int r = 0; r < R; r++) {
    acc[r][0] = _mm512_setzero_ps();
    acc[r][1] = _mm512_setzero_ps();
  }
  for (int k = 0; k < K; k++) {
    const __m512 b0 = _mm512_maskz_loadu_ps(m0, b + static_cast<size_t>(k) * N);
    const __m512 b1 = _mm512_maskz_loadu_ps(m1, b + static_cast<size_t>(k) * N + 16);
#pragma GCC unroll 8
    for (int r = 0; r < R; r++) {
      const __m512 x = _mm512_set1_ps(a[static_cast<size_t>(r) * K + k]);
      acc[r][0] = _mm512_fmadd_ps(x, b0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(x, b1, acc[r][1]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; r++) {
    float* row = c + static_cast<size_t>(r) * N;
    _mm512_mask_storeu_ps(row, m0, acc[r][0]);
    if (m1) _mm512_mask_storeu_ps(row + 16, m1, acc[r][1]);
  }
}

AVX512 static void gemmAvx512(const float* A, const float* B, float* C, int M, int K, int N) {
  for (int j0 = 0; j0 < N; j0 += 32) {
    const int cols = N - j0 < 32 ? N - j0 : 32;
    const __mmask16 m0 = cols >= 16 ? 0xFFFF : static_cast<__mmask16>((1u << cols) - 1);
    const __mmask16 m1 = cols >= 32 ? 0xFFFF : cols > 16 ? static_cast<__mmask16>((1u << (cols - 16)) - 1) : 0;
    int i = 0;
    for (; i + 8 <= M; i += 8) block512<8>(A + static_cast<size_t>(i) * K, B + j0, C + static_cast<size_t>(i) * N + j0, K, N, m0, m1);
    for (; i + 4 <= M; i += 4) block512<4>(A + static_cast<size_t>(i) * K, B + j0, C + static_cast<size_t>(i) * N + j0, K, N, m0, m1);
    for (; i < M; i++) block512<1>(A + static_cast<size_t>(i) * K, B + j0, C + static_cast<size_t>(i) * N + j0, K, N, m0, m1);
  }
}

// Lanes below `cols` set (all for cols >= 8, none for cols <= 0).
AVX2 static inline __m256i tailMask(int cols) {
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(cols), lanes);
}

template <int R>
AVX2 static inline void block256(const float* a, const float* b, float* c, int K, int N, int cols) {
  const __m256i m0 = tailMask(cols);
  const __m256i m1 = tailMask(cols - 8);
  __m256 acc[R][2];
#pragma GCC unroll 8
  for (int r = 0; r < R; r++) {
    acc[r][0] = _mm256_setzero_ps();
    acc[r][1] = _mm256_setzero_ps();
  }
  for (int k = 0; k < K; k++) {
    const __m256 b0 = _mm256_maskload_ps(b + static_cast<size_t>(k) * N, m0);
    const __m256 b1 = _mm256_maskload_ps(b + static_cast<size_t>(k) * N + 8, m1);
#pragma GCC unroll 8
    for (int r = 0; r < R; r++) {
      const __m256 x = _mm256_broadcast_ss(a + static_cast<size_t>(r) * K + k);
      acc[r][0] = _mm256_fmadd_ps(x, b0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(x, b1, acc[r][1]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; r++) {
    float* row = c + static_cast<size_t>(r) * N;
    _mm256_maskstore_ps(row, m0, acc[r][0]);
    if (cols > 8) _mm256_maskstore_ps(row + 8, m1, acc[r][1]);
  }
}

AVX2 static void gemmAvx2(const float* A, const float* B, float* C, int M, int K, int N) {
  for (int j0 = 0; j0 < N; j0 += 16) {
    const int cols = N - j0 < 16 ? N - j0 : 16;
    int i = 0;
    for (; i + 8 <= M; i += 8) block256<8>(A + static_cast<size_t>(i) * K, B + j0, C + static_cast<size_t>(i) * N + j0, K, N, cols);
    for (; i + 4 <= M; i += 4) block256<4>(A + static_cast<size_t>(i) * K, B + j0, C + static_cast<size_t>(i) * N + j0, K, N, cols);
    for (; i < M; i++) block256<1>(A + static_cast<size_t>(i) * K, B + j0, C + static_cast<size_t>(i) * N + j0, K, N, cols);
  }
}
#endif

struct Named {
  const char* name;
  Kernel kernel;
};

// The kernels this CPU can run, best first.
static int available(Named* out) {
  int n = 0;
#if AEFLOW_X86
  __builtin_cpu_init();
  const bool fma = __builtin_cpu_supports("fma");
  if (fma && __builtin_cpu_supports("avx512f")) out[n++] = {"avx512", gemmAvx512};
  if (fma && __builtin_cpu_supports("avx2")) out[n++] = {"avx2", gemmAvx2};
#endif
  out[n++] = {"portable", gemmPortable};
  return n;
}

static bool floats(napi_env env, napi_value v, float** data, size_t* length) {
  bool is = false;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return false;
  napi_typedarray_type type;
  void* raw = nullptr;
  napi_value buffer;
  size_t offset = 0;
  if (napi_get_typedarray_info(env, v, &type, length, &raw, &buffer, &offset) != napi_ok || type != napi_float32_array) return false;
  *data = static_cast<float*>(raw);
  return true;
}

static bool dimension(napi_env env, napi_value v, int32_t* out) {
  return napi_get_value_int32(env, v, out) == napi_ok && *out >= 1;
}

// gemm(a, b, c, m, k, n): c (m × n) = a (m × k) · b (k × n); every argument checked, so a wrong call throws
// instead of touching memory it does not own. The kernel is the function's data.
static napi_value Gemm(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  void* data = nullptr;
  napi_get_cb_info(env, info, &argc, argv, nullptr, &data);
  float *a, *b, *c;
  size_t na, nb, nc;
  int32_t m, k, n;
  if (argc != 6 || !floats(env, argv[0], &a, &na) || !floats(env, argv[1], &b, &nb) || !floats(env, argv[2], &c, &nc) ||
      !dimension(env, argv[3], &m) || !dimension(env, argv[4], &k) || !dimension(env, argv[5], &n)) {
    napi_throw_type_error(env, nullptr, "gemm(a, b, c, m, k, n): three Float32Arrays and three positive integers");
    return nullptr;
  }
  const size_t M = m, K = k, N = n;
  if (na < M * K || nb < K * N || nc < M * N) {
    napi_throw_range_error(env, nullptr, "gemm: an array is shorter than its m, k, n say");
    return nullptr;
  }
  reinterpret_cast<Kernel>(data)(a, b, c, m, k, n);
  return nullptr;
}

static napi_value function(napi_env env, const Named& named) {
  napi_value fn;
  napi_create_function(env, named.name, NAPI_AUTO_LENGTH, Gemm, reinterpret_cast<void*>(named.kernel), &fn);
  return fn;
}

// exports: gemm (the best kernel), kernel (its name), kernels ({ name: gemm } for every kernel this CPU runs).
static napi_value Init(napi_env env, napi_value exports) {
  Named kernels[3];
  const int n = available(kernels);
  napi_set_named_property(env, exports, "gemm", function(env, kernels[0]));
  napi_value name, all;
  napi_create_string_utf8(env, kernels[0].name, NAPI_AUTO_LENGTH, &name);
  napi_set_named_property(env, exports, "kernel", name);
  napi_create_object(env, &all);
  for (int i = 0; i < n; i++) napi_set_named_property(env, all, kernels[i].name, function(env, kernels[i]));
  napi_set_named_property(env, exports, "kernels", all);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
