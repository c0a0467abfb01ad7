file(REMOVE_RECURSE
  "CMakeFiles/test_gradcheck_f64.dir/test_gradcheck.c.o"
  "CMakeFiles/test_gradcheck_f64.dir/test_gradcheck.c.o.d"
  "test_gradcheck_f64"
  "test_gradcheck_f64.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_gradcheck_f64.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
