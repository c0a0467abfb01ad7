# Empty dependencies file for gt_test_f64.
# This may be replaced when dependencies are built.
