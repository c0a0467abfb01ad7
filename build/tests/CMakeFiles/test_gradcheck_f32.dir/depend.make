# Empty dependencies file for test_gradcheck_f32.
# This may be replaced when dependencies are built.
