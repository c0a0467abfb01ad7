# Empty dependencies file for test_errors_f32.
# This may be replaced when dependencies are built.
