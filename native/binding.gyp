{
  "targets": [
    {
      "target_name": "aeflow_gemm",
      "sources": ["gemm.cc"],
      "cflags_cc": ["-O3", "-mtune=native"]
    }
  ]
}
