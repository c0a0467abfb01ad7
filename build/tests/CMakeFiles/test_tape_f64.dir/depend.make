# Empty dependencies file for test_tape_f64.
# This may be replaced when dependencies are built.
