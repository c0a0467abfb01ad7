# Empty dependencies file for gt_test_f32.
# This may be replaced when dependencies are built.
