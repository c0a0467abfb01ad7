file(REMOVE_RECURSE
  "CMakeFiles/test_oracle_f32.dir/test_oracle.c.o"
  "CMakeFiles/test_oracle_f32.dir/test_oracle.c.o.d"
  "test_oracle_f32"
  "test_oracle_f32.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_oracle_f32.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
