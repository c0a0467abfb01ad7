file(REMOVE_RECURSE
  "libgradtape.a"
)
