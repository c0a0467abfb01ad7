file(REMOVE_RECURSE
  "CMakeFiles/test_oracle_f64.dir/test_oracle.c.o"
  "CMakeFiles/test_oracle_f64.dir/test_oracle.c.o.d"
  "test_oracle_f64"
  "test_oracle_f64.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_oracle_f64.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
