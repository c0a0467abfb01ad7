# Empty dependencies file for test_tape_f32.
# This may be replaced when dependencies are built.
