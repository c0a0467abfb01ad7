file(REMOVE_RECURSE
  "CMakeFiles/test_errors_f64.dir/test_errors.c.o"
  "CMakeFiles/test_errors_f64.dir/test_errors.c.o.d"
  "test_errors_f64"
  "test_errors_f64.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_errors_f64.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
