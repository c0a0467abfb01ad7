# Empty dependencies file for test_gradcheck_f64.
# This may be replaced when dependencies are built.
