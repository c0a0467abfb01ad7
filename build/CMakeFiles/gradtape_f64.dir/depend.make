# Empty dependencies file for gradtape_f64.
# This may be replaced when dependencies are built.
