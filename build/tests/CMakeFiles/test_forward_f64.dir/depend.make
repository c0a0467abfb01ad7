# Empty dependencies file for test_forward_f64.
# This may be replaced when dependencies are built.
