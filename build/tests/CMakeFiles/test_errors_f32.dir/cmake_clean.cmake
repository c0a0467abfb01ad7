file(REMOVE_RECURSE
  "CMakeFiles/test_errors_f32.dir/test_errors.c.o"
  "CMakeFiles/test_errors_f32.dir/test_errors.c.o.d"
  "test_errors_f32"
  "test_errors_f32.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_errors_f32.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
