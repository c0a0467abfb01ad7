# profile_families.awk - sorts the samples of `perf script -F ip,sym` (with call chains)
# into op families; bench/profile.sh runs it. Each sample's stack is walked from the leaf up
# to the first frame that belongs to a family; frames outside the library and the bench
# (libc's memset, libm's tanh, the kernel) belong to none, so their time goes to the library
# function that called them. GEMM time is also split by the op that called the GEMM.
#     awk -v files=SYMBOL_FILES -f profile_families.awk
# SYMBOL_FILES: lines "symbol source-file" (from `nm -l`; empty without -g, and then symbol
# names alone decide).
BEGIN {
    while ((getline line < files) > 0) {
        split(line, w, " ")
        file[w[1]] = w[2]
    }
    RS = ""
    FS = "\n"
    DISPATCH = "tape & dispatch (nodes, arena, checks, backward walk)"
}

function family(sym, f, base) {
    base = sym
    sub(/\.(avx512f|avx2|default|resolver|part\.[0-9]+|isra\.[0-9]+|constprop\.[0-9]+)$/, "", base)
    f = (sym in file) ? file[sym] : (base in file) ? file[base] : ""
    if (base ~ /^(im2col|col2im)/)
        return "im2col/col2im"
    if (f ~ /ops\/gemm[^\/]*\.[ch]$/ || base ~ /^(gt__gemm|outer_[0-9]|dot_[0-9]|pack_)/)
        return "GEMM"
    if (base ~ /^(worker_main|wait_for_job|wait_done|claim)$/ ||
        (f ~ /ops\/parallel\.c$/ && base !~ /^(run_range|run_parts|gt__parallel_)/))
        return "threads (a worker waiting for a job, the caller for parts)"
    if (f ~ /ops\/conv\.c$/ || sym ~ /^gt__conv2d_/)
        return "conv2d own loops (bias; col2im when inlined)"
    if (f ~ /ops\/pool[^\/]*\.c$/ || sym ~ /^gt__(max|avg)pool/)
        return "pooling"
    if (f ~ /ops\/activation\.c$/ || sym ~ /^gt__(tanh|relu|sigmoid|exp|log)_/)
        return "activations (libm tanh included)"
    if (f ~ /ops\/matmul\.c$/ || sym ~ /^gt__(linear|matmul)_/)
        return "linear/matmul own loops (bias, sums)"
    if (f ~ /ops\/loss\.c$/ || sym ~ /^gt__(cross_entropy|mse_loss|softmax|log_softmax)_/)
        return "loss"
    if (f ~ /ops\/(elementwise|reduce)\.c$/)
        return "elementwise/reduce"
    if (f ~ /ops\/shape\.c$/ || sym ~ /^gt__(flatten|reshape|transpose)_/)
        return "shape ops"
    if (f ~ /models\/optim\.c$/ || sym == "gt_optimizer_step")
        return "optimizer (SGD momentum)"
    if (sym == "gt_model_zero_grad")
        return "zero-grad"
    if (f ~ /bench\// || sym ~ /^(train_step|time_cell|bench_batch|main)$/)
        return "harness (bench loop, setup)"
    if (f != "" || sym ~ /^gt_/)
        return DISPATCH
    return ""
}

{
    total++
    fam = ""
    op = ""
    for (i = 1; i <= NF; i++) {
        split($i, w, " ")
        sym = w[2]
        if (fam == "")
            fam = family(sym)
        if (op == "" && sym ~ /^gt__[a-z0-9_]+_(forward|backward)$/) {
            op = sym
            sub(/^gt__/, "", op)
            sub(/_forward$/, " forward", op)
            sub(/_backward$/, " backward", op)
        }
        if (fam != "" && op != "")
            break
    }
    if (fam == "")
        fam = "other (outside the program)"
    if (fam == "GEMM")
        by_op[op == "" ? "?" : op]++
    n[fam]++
}

END {
    if (!total) {
        print "no samples"
        exit
    }
    for (k in n)
        printf "%6.1f%%  %s\n", 100 * n[k] / total, k | "sort -rn"
    close("sort -rn")
    for (k in by_op)
        printf "%6.1f%%      GEMM in %s\n", 100 * by_op[k] / total, k | "sort -rn"
    close("sort -rn")
    printf "(%d samples)\n", total
}
