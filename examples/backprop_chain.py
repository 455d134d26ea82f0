"""Backpropagation through a small node graph, one local derivative at a time.

Source: article 002 (002_c7e395e92a203fca.txt, "With respect to", "As it relates to back
propagation", "Addition"). The graph is e = a·b, d = e + c, L = d·f. Backpropagation
multiplies each node's local derivative by the derivative flowing back from above:
dL/dc = dL/dd · dd/dc = −2 · 1 = −2 in the article, so f = −2; the other inputs are the usual
a = 2, b = −3, c = 10 (the article gives no values for them).

Each local derivative here comes from dualdiff applied to that node alone; the chain-rule
products are then checked against dualdiff's gradient of the whole graph.

The article also says that d = a·b + a·c² has dd/da = b + 2c. dualdiff gives b + c²: c² is a
constant factor of a, exactly like b, so no 2 appears.

    python examples/backprop_chain.py
"""
import dualdiff as dd


def graph(a, b, c, f):
    e = a * b
    d = e + c
    return d * f


def main(outdir=None):
    """Print the backward pass; `outdir` is unused (this example draws nothing)."""
    a, b, c, f = 2.0, -3.0, 10.0, -2.0
    e = a * b
    d = e + c
    L = d * f

    # local derivatives: each node differentiated on its own, its inputs as plain numbers
    de_da, de_db = dd.grad(lambda a, b: a * b, argnums=(0, 1))(a, b)
    dd_de, dd_dc = dd.grad(lambda e, c: e + c, argnums=(0, 1))(e, c)
    dL_dd, dL_df = dd.grad(lambda d, f: d * f, argnums=(0, 1))(d, f)

    # the backward pass: what flows into a node times the node's local derivative
    chain = {"f": dL_df, "d": dL_dd, "c": dL_dd * dd_dc, "e": dL_dd * dd_de}
    chain["a"] = chain["e"] * de_da
    chain["b"] = chain["e"] * de_db

    direct = dict(zip("abcf", dd.grad(graph, argnums=(0, 1, 2, 3))(a, b, c, f)))
    dd_da_node, _, dd_dc_node = dd.grad(lambda a, b, c: a * b + c, argnums=(0, 1, 2))(a, b, c)
    article_extra = dd.grad(lambda a, b, c: a * b + a * c**2)(a, b, c)

    print(f"forward:  a = {a:g}, b = {b:g}, c = {c:g}, f = {f:g};  "
          f"e = a·b = {e:g}, d = e + c = {d:g}, L = d·f = {L:g}")
    print(f"local:    de/da = b = {de_da:g}, de/db = a = {de_db:g}, dd/de = {dd_de:g}, "
          f"dd/dc = {dd_dc:g}, dL/dd = f = {dL_dd:g}, dL/df = d = {dL_df:g}")
    print(f"{'':10}{'chain rule':>12}{'dd.grad(L)':>12}")
    for v, how in [("c", "dL/dd·dd/dc"), ("a", "dL/dd·dd/de·de/da"), ("b", "dL/dd·dd/de·de/db"),
                   ("f", "d")]:
        print(f"dL/d{v:<6}{chain[v]:12g}{direct[v]:12g}   = {how}")
    print(f"d = a·b + c:  ∂d/∂a = {dd_da_node:g} (= b), ∂d/∂c = {dd_dc_node:g}")
    print(f"d = a·b + a·c²:  ∂d/∂a = {article_extra:g} = b + c²  (the article's b + 2c would be "
          f"{b + 2 * c:g})")
    local = {"de/da": de_da, "de/db": de_db, "dd/de": dd_de, "dd/dc": dd_dc, "dL/dd": dL_dd,
             "dL/df": dL_df}
    return {"a": a, "b": b, "c": c, "f": f, "L": L, "local": local, "chain": chain,
            "direct": direct, "dd/da": dd_da_node, "dd/dc": dd_dc_node,
            "extra_dd/da": article_extra}


if __name__ == "__main__":
    main()
