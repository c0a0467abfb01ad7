# Empty dependencies file for test_forward_f32.
# This may be replaced when dependencies are built.
