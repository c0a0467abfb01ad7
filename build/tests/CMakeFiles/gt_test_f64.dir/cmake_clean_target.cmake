file(REMOVE_RECURSE
  "libgt_test_f64.a"
)
