"""PNG plots of requests, latency and bytes against N (or M), one line per system.

Requests are the same on every endpoint (they are the algorithm), so they are
drawn once; latency is drawn per endpoint (solid: SeaweedFS, dashed: moto).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt

from benchmarks.measure import Row

SCALED = ("restore N messages", "chat turn", "list N sessions", "latest checkpoint",
          "delete session (M objects)", "append to warm history")
_STYLE = {"seaweedfs": "-", "moto": "--"}
# Fixed looks per system; synaptic-s3 is drawn last and largest, so lines that coincide
# (1 request for two systems) still show it.
_SYSTEM_LOOK: dict[str, dict[str, object]] = {
    "synaptic-s3": {"color": "C0", "marker": "o", "markersize": 8, "linewidth": 2.5,
                    "zorder": 4},
    "rust-like baseline": {"color": "C1", "marker": "s", "markersize": 6, "zorder": 3},
    "strands S3SessionManager": {"color": "C2", "marker": "^", "markersize": 6, "zorder": 2},
    "langgraph-checkpoint-s3": {"color": "C3", "marker": "D", "markersize": 6, "zorder": 2},
    "strands snapshot": {"color": "C4", "marker": "v", "markersize": 6, "zorder": 2},
    "raw call": {"color": "0.5", "marker": ".", "markersize": 5, "linewidth": 1, "zorder": 1},
}


def _look(system: str) -> dict[str, object]:
    return dict(_SYSTEM_LOOK.get(system, {"marker": "x"}))


def _series(rows: list[Row], operation: str, endpoint: str) -> dict[str, list[Row]]:
    found: dict[str, list[Row]] = {}
    for row in rows:
        if row.operation == operation and row.endpoint == endpoint and row.size is not None:
            found.setdefault(row.system, []).append(row)
    ordered = sorted(found, key=lambda system: system == "synaptic-s3")  # ours drawn last
    return {system: sorted(found[system], key=lambda r: r.size or 0) for system in ordered}


def _grid(count: int) -> tuple[plt.Figure, list[plt.Axes]]:
    columns = 3
    rows = -(-count // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(5 * columns, 4 * rows), squeeze=False)
    flat = [axis for line in axes for axis in line]
    for axis in flat[count:]:
        axis.set_visible(False)
    return figure, flat


def _finish(axis: plt.Axes, title: str, ylabel: str) -> None:
    axis.set_title(title)
    axis.set_xscale("log")
    axis.set_yscale("log")
    axis.set_xlabel("N or M (log)")
    axis.set_ylabel(ylabel)
    axis.grid(True, which="both", alpha=0.3)
    axis.legend(fontsize=7)


def plot_requests(rows: list[Row], path: Path) -> Path:
    endpoints = sorted({r.endpoint for r in rows})
    endpoint = "seaweedfs" if "seaweedfs" in endpoints else endpoints[0]
    figure, axes = _grid(len(SCALED))
    for axis, operation in zip(axes, SCALED, strict=False):
        for system, series in _series(rows, operation, endpoint).items():
            axis.plot([r.size for r in series], [r.median_requests for r in series],
                      label=system, **_look(system))  # type: ignore[arg-type]
        _finish(axis, operation, "requests per operation")
    figure.suptitle(f"S3 requests per operation (counted on the wire, {endpoint})")
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)
    return path


def plot_latency(rows: list[Row], path: Path) -> Path:
    figure, axes = _grid(len(SCALED))
    for axis, operation in zip(axes, SCALED, strict=False):
        for endpoint in sorted({r.endpoint for r in rows}):
            for system, series in _series(rows, operation, endpoint).items():
                axis.plot([r.size for r in series], [r.median_ms for r in series],
                          _STYLE.get(endpoint, ":"), label=f"{system} ({endpoint})",
                          **_look(system))  # type: ignore[arg-type]
        _finish(axis, operation, "median latency, ms")
    figure.suptitle("Median latency per operation (solid: SeaweedFS, dashed: moto)")
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)
    return path


def plot_append_bytes(rows: list[Row], path: Path) -> Path:
    """The price of one-object histories: an append rewrites the whole array."""
    endpoints = sorted({r.endpoint for r in rows})
    endpoint = "seaweedfs" if "seaweedfs" in endpoints else endpoints[0]
    figure, axes = plt.subplots(1, 2, figsize=(10, 4))
    for operation, axis in zip(("append to warm history", "chat turn"), axes, strict=True):
        for system, series in _series(rows, operation, endpoint).items():
            axis.plot([r.size for r in series], [r.bytes_moved for r in series],
                      label=system, **_look(system))  # type: ignore[arg-type]
        _finish(axis, f"{operation}: bytes moved", "bytes per operation")
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)
    return path


def plot_all(rows: list[Row], directory: Path) -> list[Path]:
    return [plot_requests(rows, directory / "requests_vs_n.png"),
            plot_latency(rows, directory / "latency_vs_n.png"),
            plot_append_bytes(rows, directory / "bytes_vs_n.png")]
