"""``keras.utils.Progbar``: a progress bar with Keras' arguments and averaging rules.

Metrics not listed as stateful are averaged over the steps seen (weighted by the steps each
update covers); stateful ones are shown as given. verbose=1 redraws the line in place on a
terminal (one line per update otherwise); verbose=2 prints one line when the bar finishes.
With ``keras.config.disable_interactive_logging()`` the lines go to the ``logging`` module.
"""
from __future__ import annotations

import logging
import sys
import time

from . import config

__all__ = ["Progbar"]


def _emit(message):
    if config.is_interactive_logging_enabled():
        sys.stdout.write(message)
        sys.stdout.flush()
    else:
        logging.getLogger("ferrograd").info(message.strip("\r\n"))


def _fmt(v):
    return f"{v:.4f}" if abs(v) > 1e-3 else f"{v:.4e}"


def _per_unit(seconds, unit):
    if seconds >= 1 or seconds == 0:
        return f"{seconds:.0f}s/{unit}"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/{unit}"
    return f"{seconds * 1e6:.0f}us/{unit}"


class Progbar:
    """Displays a progress bar.

    Args:
        target: the total number of steps (None if unknown).
        width: the bar's width in characters.
        verbose: 0 (silent), 1 (live bar), 2 (one line at the end).
        interval: the least time between two redraws (seconds).
        stateful_metrics / stateless_metrics: names shown as given / averaged (only one of the two).
        unit_name: the unit of the step counts ("step").
    """

    def __init__(self, target, width=20, verbose=1, interval=0.05, stateful_metrics=None, stateless_metrics=None,
                 unit_name="step"):
        if stateful_metrics is not None and stateless_metrics is not None:
            raise ValueError("Only one of `stateful_metrics` or `stateless_metrics` can be provided.")
        self.target, self.width, self.verbose = target, width, verbose
        self.interval, self.unit_name = interval, unit_name
        self.stateful_metrics = set(stateful_metrics) if stateful_metrics is not None else (
            None if stateless_metrics is not None else set())
        self.stateless_metrics = set(stateless_metrics) if stateless_metrics is not None else None
        self._dynamic_display = hasattr(sys.stdout, "isatty") and sys.stdout.isatty()
        self._seen_so_far = 0
        self._values = {}
        self._values_order = []
        self._start = time.time()
        self._last_update = 0.0
        self._prev_width = 0

    def _stateless(self, k):
        return k not in self.stateful_metrics if self.stateful_metrics is not None else k in self.stateless_metrics

    def update(self, current, values=None, finalize=None):
        """Moves the bar to step ``current``; ``values`` is a list of ``(name, value)`` of the last step."""
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        for k, v in values or []:
            v = float(v)
            if k not in self._values_order:
                self._values_order.append(k)
            if self._stateless(k) and not finalize:
                base = max(current - self._seen_so_far, 1)
                total, count = self._values.get(k, (0.0, 0))
                self._values[k] = (total + v * base, count + base)
            else:
                self._values[k] = (v, 1)
        self._seen_so_far = current
        now = time.time()
        per_unit = (now - self._start) / current if current else 0.0
        metrics = "".join(f" - {k}: {_fmt(t / max(1, c))}" for k, (t, c) in
                          ((k, self._values[k]) for k in self._values_order))
        if self.verbose == 1:
            if now - self._last_update < self.interval and not finalize:
                return
            if self.target:
                digits = len(str(self.target))
                done = int(self.width * min(current / self.target, 1.0))
                bar = f"{current:{digits}d}/{self.target} [{'=' * done}{'.' * (self.width - done)}]"
            else:
                bar = f"{current:7d}/Unknown"
            if self.target and not finalize:
                eta = per_unit * (self.target - current)
                info = f" - ETA: {int(eta)}s"
            else:
                info = f" - {now - self._start:.0f}s {_per_unit(per_unit, self.unit_name)}"
            line = bar + info + metrics
            pad = " " * max(0, self._prev_width - len(line))
            self._prev_width = len(line)
            _emit(("\r" if self._dynamic_display else "") + line + pad + ("\n" if finalize or not self._dynamic_display
                                                                          else ""))
        elif self.verbose == 2 and finalize and self.target:
            digits = len(str(self.target))
            _emit(f"{current:{digits}d}/{self.target} - {now - self._start:.0f}s - "
                  f"{_per_unit(per_unit, self.unit_name)}{metrics}\n")
        self._last_update = now

    def add(self, n, values=None):
        """Advances the bar by ``n`` steps."""
        self.update(self._seen_so_far + n, values)
