
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/autograd/gradcheck.c" "CMakeFiles/gradtape_f64.dir/autograd/gradcheck.c.o" "gcc" "CMakeFiles/gradtape_f64.dir/autograd/gradcheck.c.o.d"
  "/work/main/autograd/tape.c" "CMakeFiles/gradtape_f64.dir/autograd/tape.c.o" "gcc" "CMakeFiles/gradtape_f64.dir/autograd/tape.c.o.d"
  "/work/main/models/checkpoint.c" "CMakeFiles/gradtape_f64.dir/models/checkpoint.c.o" "gcc" "CMakeFiles/gradtape_f64.dir/models/checkpoint.c.o.d"
  "/work/main/models/data.c" "CMakeFiles/gradtape_f64.dir/models/data.c.o" "gcc" "CMakeFiles/gradtape_f64.dir/models/data.c.o.d"
  "/work/main/ops/activation.c" "CMakeFiles/gradtape_f64.dir/ops/activation.c.o" "gcc" "CMakeFiles/gradtape_f64.dir/ops/activation.c.o.d"
  "/work/main/ops/conv.c" "CMakeFiles/gradtape_f64.dir/ops/conv.c.o" "gcc" "CMakeFiles/gradtape_f64.dir/ops/conv.c.o.d"
  "/work/main/ops/elementwise.c" "CMakeFiles/gradtape_f64.dir/ops/elementwise.c.o" "gcc" "CMakeFiles/gradtape_f64.dir/ops/elementwise.c.o.d"
  "/work/main/ops/gemm.c" "CMakeFiles/gradtape_f64.dir/ops/gemm.c.o" "gcc" "CMakeFiles/gradtape_f64.dir/ops/gemm.c.o.d"
  "/work/main/ops/loss.c" "CMakeFiles/gradtape_f64.dir/ops/loss.c.o" "gcc" "CMakeFiles/gradtape_f64.dir/ops/loss.c.o.d"
  "/work/main/ops/matmul.c" "CMakeFiles/gradtape_f64.dir/ops/matmul.c.o" "gcc" "CMakeFiles/gradtape_f64.dir/ops/matmul.c.o.d"
  "/work/main/ops/pool.c" "CMakeFiles/gradtape_f64.dir/ops/pool.c.o" "gcc" "CMakeFiles/gradtape_f64.dir/ops/pool.c.o.d"
  "/work/main/ops/reduce.c" "CMakeFiles/gradtape_f64.dir/ops/reduce.c.o" "gcc" "CMakeFiles/gradtape_f64.dir/ops/reduce.c.o.d"
  "/work/main/ops/shape.c" "CMakeFiles/gradtape_f64.dir/ops/shape.c.o" "gcc" "CMakeFiles/gradtape_f64.dir/ops/shape.c.o.d"
  "/work/main/ops/table.c" "CMakeFiles/gradtape_f64.dir/ops/table.c.o" "gcc" "CMakeFiles/gradtape_f64.dir/ops/table.c.o.d"
  "/work/main/tensor/alloc.c" "CMakeFiles/gradtape_f64.dir/tensor/alloc.c.o" "gcc" "CMakeFiles/gradtape_f64.dir/tensor/alloc.c.o.d"
  "/work/main/tensor/error.c" "CMakeFiles/gradtape_f64.dir/tensor/error.c.o" "gcc" "CMakeFiles/gradtape_f64.dir/tensor/error.c.o.d"
  "/work/main/tensor/npy.c" "CMakeFiles/gradtape_f64.dir/tensor/npy.c.o" "gcc" "CMakeFiles/gradtape_f64.dir/tensor/npy.c.o.d"
  "/work/main/tensor/print.c" "CMakeFiles/gradtape_f64.dir/tensor/print.c.o" "gcc" "CMakeFiles/gradtape_f64.dir/tensor/print.c.o.d"
  "/work/main/tensor/rng.c" "CMakeFiles/gradtape_f64.dir/tensor/rng.c.o" "gcc" "CMakeFiles/gradtape_f64.dir/tensor/rng.c.o.d"
  "/work/main/tensor/tensor.c" "CMakeFiles/gradtape_f64.dir/tensor/tensor.c.o" "gcc" "CMakeFiles/gradtape_f64.dir/tensor/tensor.c.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
