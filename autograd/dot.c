/* dot.c - the graph that reaches a tensor, written as Graphviz DOT. */
#include "tape_internal.h"

#include <math.h>
#include <string.h>

/* A tensor the root depends on, and the index (in tape order) of the node that made it. */
typedef struct graph_tensor {
    const gt_tensor *t;
    int64_t producer; /* -1: a leaf (a parameter, an input, a constant) */
    bool written;     /* a leaf: written, just before the first op that reads it */
} graph_tensor;

typedef struct graph {
    const gt_node **nodes; /* the tape's nodes, first to last */
    bool *drawn;           /* nodes[i] reaches the root */
    graph_tensor *tensors;
    int64_t n_nodes, n_tensors;
} graph;

static int64_t tensor_index(const graph *g, const gt_tensor *t) {
    for (int64_t k = 0; k < g->n_tensors; k++)
        if (g->tensors[k].t == t)
            return k;
    return -1;
}

/* Walks the tape from its last node to its first: a node whose output the root depends on
 * is drawn, and its inputs join what the root depends on. */
static gt_status graph_build(const gt_tape *tape, const gt_tensor *root, graph *g) {
    int64_t n = 0, inputs = 1;
    for (const gt_node *node = tape->last; node; node = node->prev) {
        n++;
        inputs += node->n_in;
    }
    g->nodes = gt_malloc((size_t)(n ? n : 1) * sizeof *g->nodes, "write_dot");
    g->drawn = gt_calloc((size_t)(n ? n : 1), sizeof *g->drawn, "write_dot");
    g->tensors = gt_malloc((size_t)inputs * sizeof *g->tensors, "write_dot");
    if (!g->nodes || !g->drawn || !g->tensors)
        return GT_ERR_NOMEM;
    g->n_nodes = n;
    for (const gt_node *node = tape->last; node; node = node->prev)
        g->nodes[--n] = node;
    g->tensors[g->n_tensors++] = (graph_tensor){root, -1, false};
    for (int64_t i = g->n_nodes; i-- > 0;) {
        const gt_node *node = g->nodes[i];
        int64_t k = tensor_index(g, node->out);
        if (k < 0 || g->tensors[k].producer >= 0)
            continue;
        g->tensors[k].producer = i;
        g->drawn[i] = true;
        for (int j = 0; j < node->n_in; j++)
            if (tensor_index(g, node->in[j]) < 0)
                g->tensors[g->n_tensors++] = (graph_tensor){node->in[j], -1, false};
    }
    return GT_OK;
}

static void graph_free(graph *g) {
    gt_free(g->nodes);
    gt_free(g->drawn);
    gt_free(g->tensors);
}

/* s with the characters DOT's quoted strings treat specially escaped. */
static void put_escaped(FILE *out, const char *s) {
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', out);
        fputc(*s, out);
    }
}

static bool any_non_finite(const gt_real *values, int64_t n) {
    for (int64_t i = 0; values && i < n; i++)
        if (!isfinite(values[i]))
            return true;
    return false;
}

static void put_leaf(FILE *out, const gt_tape *tape, int64_t k, const gt_tensor *t) {
    char shape[160];
    const char *name = gt__tape_name_of(tape, t);
    bool param = t->flags & GT__REQUIRES_GRAD;
    fprintf(out, "  t%lld [shape=ellipse, style=filled, fillcolor=\"%s\", label=\"", (long long)k,
            param ? "#cfe2ff" : "#eeeeee");
    put_escaped(out, name ? name : param ? "parameter" : "input");
    fprintf(out, "\\n%s\\n%s\"];\n", gt_shape_str(t->ndim, t->shape, shape, sizeof shape),
            param ? "requires grad" : "no grad");
}

static void put_op(FILE *out, const gt_tape *tape, int64_t i, const gt_node *node, bool root) {
    char shape[160];
    const gt_tensor *t = node->out;
    const char *name = gt__tape_name_of(tape, t);
    const char *anomaly = node == tape->anomaly_node          ? "non-finite gradient"
                          : any_non_finite(t->data, t->numel) ? "non-finite output"
                                                              : NULL;
    fprintf(out, "  op%lld [shape=box, style=\"filled%s\", fillcolor=\"%s\", label=\"",
            (long long)i, root ? ",bold" : "", anomaly ? "#ff8080" : "#fff2cc");
    put_escaped(out, node->name);
    if (gt__node_custom_op(node))
        fputs(" (custom)", out);
    fprintf(out, "\\n%s", gt_shape_str(t->ndim, t->shape, shape, sizeof shape));
    if (name) {
        fputs("\\n= ", out);
        put_escaped(out, name);
    }
    if (anomaly)
        fprintf(out, "\\n%s", anomaly);
    fputs("\"];\n", out);
}

gt_status gt_tape_write_dot(const gt_tape *tape, const gt_tensor *root, FILE *out) {
    if (!tape || !out)
        return gt_set_error(GT_ERR_ARG, "write_dot: the tape and the file must not be NULL");
    gt_status status = gt__check_input("write_dot", (gt_tape *)tape, root);
    if (status != GT_OK)
        return status;
    graph g = {0};
    if (graph_build(tape, root, &g) != GT_OK) {
        graph_free(&g);
        return GT_ERR_NOMEM;
    }
    fputs("digraph gradtape {\n  rankdir=TB;\n"
          "  node [fontname=\"Helvetica\", fontsize=10];\n"
          "  edge [fontname=\"Helvetica\", fontsize=8];\n",
          out);
    if (g.tensors[0].producer < 0) /* the root is a leaf */
        put_leaf(out, tape, 0, root);
    for (int64_t i = 0; i < g.n_nodes; i++) {
        if (!g.drawn[i])
            continue;
        const gt_node *node = g.nodes[i];
        for (int j = 0; j < node->n_in; j++) {
            graph_tensor *from = &g.tensors[tensor_index(&g, node->in[j])];
            if (from->producer < 0 && !from->written) {
                put_leaf(out, tape, from - g.tensors, from->t);
                from->written = true;
            }
        }
        put_op(out, tape, i, node, node->out == root);
        for (int j = 0; j < node->n_in; j++) {
            const graph_tensor *from = &g.tensors[tensor_index(&g, node->in[j])];
            if (from->producer >= 0)
                fprintf(out, "  op%lld -> op%lld", (long long)from->producer, (long long)i);
            else
                fprintf(out, "  t%lld -> op%lld", (long long)(from - g.tensors), (long long)i);
            if (node->n_in > 1)
                fprintf(out, " [label=\"%d\"];\n", j);
            else
                fputs(";\n", out);
        }
    }
    fputs("}\n", out);
    graph_free(&g);
    if (fflush(out) != 0 || ferror(out))
        return gt_set_error(GT_ERR_IO, "write_dot: writing the graph failed");
    return GT_OK;
}
