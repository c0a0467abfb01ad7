file(REMOVE_RECURSE
  "CMakeFiles/gt_test_f64.dir/gt_test.c.o"
  "CMakeFiles/gt_test_f64.dir/gt_test.c.o.d"
  "libgt_test_f64.a"
  "libgt_test_f64.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/gt_test_f64.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
