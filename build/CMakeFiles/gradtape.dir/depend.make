# Empty dependencies file for gradtape.
# This may be replaced when dependencies are built.
