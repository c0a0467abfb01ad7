/* distributed.c - gradtape-train --distributed: data-parallel training over MPI.
 *
 *     mpirun -np P gradtape-train --distributed [OPTION]...
 *
 * Every rank builds the same model from the same seed (and rank 0's parameters are then
 * broadcast, so they are identical whatever happened), loads the whole data set and runs
 * the same seeded loader; rank r computes the gradient of rows [r*G/P, (r+1)*G/P) of every
 * global batch of G images (gt_loader_shard), the gradients are averaged with
 * MPI_Allreduce over the model's contiguous gradient block, and every rank applies the same
 * optimizer step. Per step each rank sends and receives about 2 (P-1)/P x 4 x parameters
 * bytes (a ring all-reduce; LeNet-5: 247 KB of gradients).
 *
 * Without GT_HAVE_MPI (built without MPI) only distributed_init has anything to say; the
 * other calls are never reached with d->on set, and do nothing for a single process. */
#include "train.h"

#include <stdlib.h>

#ifdef GT_HAVE_MPI
#include <mpi.h>

/* Gradients are summed in buckets of at most this many bytes (1 MiB: 262,144 floats), one
 * MPI_Allreduce each. A bucket bounds the memory MPI needs for one reduction and is the unit
 * a reduction overlapped with the backward pass would start with; without overlap (it does
 * not pay here: see README, "Distributed training") every extra bucket only adds a
 * latency, so LeNet-5 (61,706 gradients, 247 KB) and the MLP (79,510) go in one. */
#define DISTRIBUTED_BUCKET_BYTES (1024 * 1024)

_Static_assert(sizeof(gt_real) == sizeof(float), "gradtape-train sends gt_real as MPI_FLOAT");
#define MPI_REAL_TYPE MPI_FLOAT

int distributed_init(distributed *d) {
    *d = (distributed){.rank = 0, .size = 1, .local_size = 1};
    if (MPI_Init(NULL, NULL) != MPI_SUCCESS) {
        complain("--distributed: MPI cannot start (run under mpirun -np N)");
        return EXIT_FAILURE;
    }
    d->on = true;
    MPI_Comm_rank(MPI_COMM_WORLD, &d->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &d->size);
    MPI_Comm node;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, d->rank, MPI_INFO_NULL, &node);
    MPI_Comm_size(node, &d->local_size);
    MPI_Comm_free(&node);
    complain_as_rank(d->rank, d->size);
    /* Rank 0 alone reports; the others keep only their standard error, for their own
     * failures. */
    if (d->rank != 0 && !freopen("/dev/null", "w", stdout))
        complain("cannot send standard output to /dev/null: it stays on");
    return EXIT_SUCCESS;
}

int distributed_agree(const distributed *d, int status) {
    int worst = status;
    if (d->on)
        MPI_Allreduce(&status, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    return worst;
}

/* MPI counts are ints: n values in pieces of at most `piece`. */
void distributed_broadcast(const distributed *d, gt_real *data, int64_t n) {
    if (!d->on)
        return;
    const int64_t piece = 1 << 28;
    for (int64_t at = 0; at < n; at += piece)
        MPI_Bcast(data + at, (int)(n - at < piece ? n - at : piece), MPI_REAL_TYPE, 0,
                  MPI_COMM_WORLD);
}

void distributed_average_gradients(distributed *d, gt_real *grad, int64_t n, int64_t rows,
                                   int64_t global_rows) {
    if (!d->on)
        return;
    double start = MPI_Wtime();
    gt_real share = (gt_real)((double)rows / (double)global_rows);
    if (share != 1)
        for (int64_t i = 0; i < n; i++)
            grad[i] *= share;
    const int64_t bucket = DISTRIBUTED_BUCKET_BYTES / sizeof(gt_real);
    for (int64_t at = 0; at < n; at += bucket)
        MPI_Allreduce(MPI_IN_PLACE, grad + at, (int)(n - at < bucket ? n - at : bucket),
                      MPI_REAL_TYPE, MPI_SUM, MPI_COMM_WORLD);
    d->allreduce_seconds += MPI_Wtime() - start;
}

void distributed_sum(const distributed *d, double *values, int n) {
    if (d->on)
        MPI_Allreduce(MPI_IN_PLACE, values, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
}

void distributed_stop_all(const distributed *d, int status) {
    if (d->on && d->size > 1) {
        fflush(NULL);
        MPI_Abort(MPI_COMM_WORLD, status);
    }
}

void distributed_finish(distributed *d) {
    if (d->on)
        MPI_Finalize();
    d->on = false;
}

#else /* built without MPI: a single process, and --distributed says why it cannot be */

int distributed_init(distributed *d) {
    *d = (distributed){.rank = 0, .size = 1, .local_size = 1};
    complain("--distributed: this gradtape-train was built without MPI; install Open MPI "
             "(Debian: libopenmpi-dev openmpi-bin) and build again");
    return EXIT_USAGE;
}

int distributed_agree(const distributed *d, int status) { return (void)d, status; }
void distributed_broadcast(const distributed *d, gt_real *data, int64_t n) {
    (void)d, (void)data, (void)n;
}
void distributed_average_gradients(distributed *d, gt_real *grad, int64_t n, int64_t rows,
                                   int64_t global_rows) {
    (void)d, (void)grad, (void)n, (void)rows, (void)global_rows;
}
void distributed_sum(const distributed *d, double *values, int n) {
    (void)d, (void)values, (void)n;
}
void distributed_stop_all(const distributed *d, int status) { (void)d, (void)status; }
void distributed_finish(distributed *d) { (void)d; }

#endif
