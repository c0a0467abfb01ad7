# CMake generated Testfile for 
# Source directory: /work/main/tests
# Build directory: /work/main/build/tests
# 
# This file includes the relevant testing commands required for 
# testing this directory and lists subdirectories to be tested as well.
add_test(test_errors_f32 "/work/main/build/tests/test_errors_f32")
set_tests_properties(test_errors_f32 PROPERTIES  LABELS "unit;f32" TIMEOUT "600" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;18;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test(test_errors_f64 "/work/main/build/tests/test_errors_f64")
set_tests_properties(test_errors_f64 PROPERTIES  LABELS "unit;f64" TIMEOUT "600" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;18;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test(test_forward_f32 "/work/main/build/tests/test_forward_f32")
set_tests_properties(test_forward_f32 PROPERTIES  LABELS "unit;f32" TIMEOUT "600" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;18;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test(test_forward_f64 "/work/main/build/tests/test_forward_f64")
set_tests_properties(test_forward_f64 PROPERTIES  LABELS "unit;f64" TIMEOUT "600" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;18;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test(test_gradcheck_f32 "/work/main/build/tests/test_gradcheck_f32")
set_tests_properties(test_gradcheck_f32 PROPERTIES  LABELS "unit;f32" TIMEOUT "600" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;18;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test(test_gradcheck_f64 "/work/main/build/tests/test_gradcheck_f64")
set_tests_properties(test_gradcheck_f64 PROPERTIES  LABELS "unit;f64" TIMEOUT "600" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;18;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test(test_oracle_f32 "/work/main/build/tests/test_oracle_f32")
set_tests_properties(test_oracle_f32 PROPERTIES  LABELS "unit;f32" TIMEOUT "600" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;18;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test(test_oracle_f64 "/work/main/build/tests/test_oracle_f64")
set_tests_properties(test_oracle_f64 PROPERTIES  LABELS "unit;f64" TIMEOUT "600" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;18;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test(test_tape_f32 "/work/main/build/tests/test_tape_f32")
set_tests_properties(test_tape_f32 PROPERTIES  LABELS "unit;f32" TIMEOUT "600" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;18;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test(test_tape_f64 "/work/main/build/tests/test_tape_f64")
set_tests_properties(test_tape_f64 PROPERTIES  LABELS "unit;f64" TIMEOUT "600" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;18;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test(readme_example "/work/main/build/tests/example_fit")
set_tests_properties(readme_example PROPERTIES  LABELS "unit" PASS_REGULAR_EXPRESSION "w = 2.0000, b = -1.0000" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;27;add_test;/work/main/tests/CMakeLists.txt;0;")
