file(REMOVE_RECURSE
  "CMakeFiles/test_tape_f32.dir/test_tape.c.o"
  "CMakeFiles/test_tape_f32.dir/test_tape.c.o.d"
  "test_tape_f32"
  "test_tape_f32.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_tape_f32.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
