file(REMOVE_RECURSE
  "CMakeFiles/test_forward_f64.dir/test_forward.c.o"
  "CMakeFiles/test_forward_f64.dir/test_forward.c.o.d"
  "test_forward_f64"
  "test_forward_f64.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_forward_f64.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
