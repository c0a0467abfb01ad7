file(REMOVE_RECURSE
  "libgt_test_f32.a"
)
