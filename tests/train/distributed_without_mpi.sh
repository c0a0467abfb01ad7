#!/bin/bash
# distributed_without_mpi.sh TRAIN - a gradtape-train built without MPI (-DGT_MPI=OFF, or no
# libopenmpi-dev) answers --distributed with one line saying so, and exit status 2.
. "$(dirname "$0")/common.sh"
"$train" --distributed --limit 100 --epochs 1 >out 2>err
status=$?
cat err
[ $status -eq 2 ] || fail "--distributed without MPI: exit status $status, not 2"
[ "$(wc -l <err)" -eq 1 ] || fail "--distributed without MPI: not one line"
grep -q "^gradtape-train: --distributed: this gradtape-train was built without MPI" err ||
  fail "--distributed without MPI: the message does not say so"
[ -s out ] && fail "--distributed without MPI: printed on standard output"
echo "ok: --distributed without MPI is refused"
