file(REMOVE_RECURSE
  "libgradtape_f64.a"
)
