"""Link 2 metrics: fact tables, a typed and versioned metric registry, and its SQL compiler.

The metric conventions (repeat window, same-reason rule, service-level threshold, abandon treatment, CSAT
top-box, CES direction, small-number suppression...) live in workspace settings (``metrics.*``); each result
records the spec id and version and the convention values it was computed under.
"""

from .compile import compile_metric, compute, drilldown, resolve_settings
from .facts import build_facts
from .registry import REGISTRY, MetricSpec, get_spec

__all__ = ["REGISTRY", "MetricSpec", "build_facts", "compile_metric", "compute", "drilldown", "get_spec",
           "resolve_settings"]
