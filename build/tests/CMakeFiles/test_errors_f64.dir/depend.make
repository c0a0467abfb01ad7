# Empty dependencies file for test_errors_f64.
# This may be replaced when dependencies are built.
