"""Figures the lessons draw: learning curves, predicted vs actual, confusion matrix, image grids."""

from __future__ import annotations

import numpy as np


def _plt():
    import matplotlib.pyplot as plt

    return plt


def learning_curves(history, metrics: tuple[str, ...] = ("loss",), title: str = ""):
    """Train vs validation curves for each metric in a Keras ``History`` (or its dict)."""
    plt = _plt()
    data = getattr(history, "history", history)
    fig, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 3.5), squeeze=False)
    for ax, name in zip(axes[0], metrics, strict=True):
        ax.plot(data[name], label=f"train {name}")
        if f"val_{name}" in data:
            ax.plot(data[f"val_{name}"], label=f"validation {name}")
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def compare_curves(histories: dict, metric: str = "loss", title: str = ""):
    """One line per named history: e.g. optimizers or models compared on one metric."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, history in histories.items():
        data = getattr(history, "history", history)
        ax.plot(data[metric], label=name)
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric)
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    return fig


def predicted_vs_actual(y_true, y_pred, title: str = "Predicted vs actual"):
    """Scatter of predictions against true values, with the ideal diagonal."""
    plt = _plt()
    y_true = np.ravel(y_true)
    y_pred = np.ravel(y_pred)
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.scatter(y_true, y_pred, s=12, alpha=0.6)
    low, high = float(min(y_true.min(), y_pred.min())), float(max(y_true.max(), y_pred.max()))
    ax.plot([low, high], [low, high], "k--", linewidth=1, label="perfect prediction")
    ax.set_xlabel("actual")
    ax.set_ylabel("predicted")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    return fig


def confusion_matrix(y_true, y_pred, labels=None, title: str = "Confusion matrix"):
    """Counts of (true, predicted) label pairs as an annotated heat map."""
    plt = _plt()
    y_true = np.asarray(y_true).ravel()
    y_pred = np.asarray(y_pred).ravel()
    classes = (
        np.unique(np.concatenate([y_true, y_pred])) if labels is None else np.arange(len(labels))
    )
    matrix = np.zeros((len(classes), len(classes)), dtype=int)
    index = {c: i for i, c in enumerate(classes)}
    for t, p in zip(y_true, y_pred, strict=True):
        matrix[index[t], index[p]] += 1
    fig, ax = plt.subplots(figsize=(1 + 0.6 * len(classes), 1 + 0.6 * len(classes)))
    ax.imshow(matrix, cmap="Blues")
    names = labels if labels is not None else [str(c) for c in classes]
    ax.set_xticks(range(len(classes)), names, rotation=45, ha="right")
    ax.set_yticks(range(len(classes)), names)
    for i in range(len(classes)):
        for j in range(len(classes)):
            color = "white" if matrix[i, j] > matrix.max() / 2 else "black"
            ax.text(j, i, matrix[i, j], ha="center", va="center", color=color)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def image_grid(images, titles=None, highlight=None, ncols: int = 8, title: str = ""):
    """A grid of grey-scale images; ``highlight`` marks some (e.g. misclassified) in red."""
    plt = _plt()
    images = np.asarray(images)
    n = len(images)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.4 * ncols, 1.6 * nrows), squeeze=False)
    for i, ax in enumerate(axes.ravel()):
        ax.axis("off")
        if i >= n:
            continue
        ax.imshow(images[i].squeeze(), cmap="gray_r")
        if titles is not None:
            bad = highlight is not None and bool(highlight[i])
            ax.set_title(str(titles[i]), color="red" if bad else "black", fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def colour_channels(image, title: str = ""):
    """A colour image ``(height, width, 3)`` beside its red, green and blue channels."""
    plt = _plt()
    image = np.asarray(image)
    fig, axes = plt.subplots(1, 4, figsize=(12, 3.4))
    axes[0].imshow(image)
    axes[0].set_title(f"colour image {image.shape}")
    for index, (ax, name, cmap) in enumerate(
        zip(axes[1:], ("red", "green", "blue"), ("Reds_r", "Greens_r", "Blues_r"), strict=True)
    ):
        ax.imshow(image[..., index], cmap=cmap)
        ax.set_title(f"{name}: image[..., {index}]")
    for ax in axes:
        ax.axis("off")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
