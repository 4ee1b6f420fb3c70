import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")


@app.cell
def _():
    import marimo as mo

    import nbviz
    from nbviz import data

    return data, mo, nbviz


@app.cell
def _(mo):
    mo.md(r"""
    # nbviz in marimo

    marimo runs anywidget widgets natively: wrapped in `mo.ui.anywidget`, each nbviz widget is a
    reactive value. Change a control in a widget and every cell that reads it runs again.
    Everything here ships offline: an ImageNet-pretrained EfficientNet-Lite0, scikit-image's
    photos and scikit-learn's digits.

    Open it with `marimo edit notebooks/quickstart_marimo.py`, or present it as an app with
    `marimo run notebooks/quickstart_marimo.py`.
    """)
    return


@app.cell
def _(data, mo, nbviz):
    model, transform, classes = data.load_pretrained()
    photos = [data.sample_image(name) for name in ("chelsea", "coffee", "rocket")]
    explorer = mo.ui.anywidget(nbviz.CAMExplorer(model, photos, transform=transform, labels=classes))
    mo.vstack([mo.md("## Where does the classifier look?"), explorer])
    return classes, explorer


@app.cell
def _(classes, explorer, mo):
    # Reads the explorer's traits, so it runs again whenever the layer, class or method changes.
    mo.md(
        f"The map shows **{explorer.method}** at layer `{explorer.layer}` for the class "
        f"*{classes[explorer.target]}* on photo {explorer.image_index + 1}."
    )
    return


@app.cell
def _(data, mo, nbviz):
    X, y = data.digits()
    scatter = mo.ui.anywidget(
        nbviz.TSNEScatter(
            X,
            labels=y,
            texts=[f"digit {label} · sample {i}" for i, label in enumerate(y)],
            images=X.reshape(-1, 8, 8),
            random_state=0,
            title="Handwritten digits (8×8 pixels, 64-D)",
        )
    )
    mo.vstack([mo.md("## t-SNE, live\nShift-drag (or the lasso tool) to select points."), scatter])
    return scatter, y


@app.cell
def _(mo, scatter, y):
    # Reads the selection, so it runs again after every lasso.
    import numpy as np

    selected = list(scatter.selection)
    counts = np.bincount(y[selected], minlength=10) if selected else np.zeros(10, int)
    breakdown = ", ".join(f"{digit}: {n}" for digit, n in enumerate(counts) if n)
    mo.md(f"**{len(selected)} points selected**" + (f" (digits {breakdown})" if selected else ": lasso some."))
    return


if __name__ == "__main__":
    app.run()
