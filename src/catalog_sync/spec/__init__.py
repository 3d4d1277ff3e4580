"""What a provider accepts, as data: its fields, keys and rules, and values in canonical form.

* :mod:`~catalog_sync.spec.model` — the readable YAML schema of a provider (``providers/<name>/schema.yaml``)
  loaded into typed objects, with the user's house rules on top;
* :mod:`~catalog_sync.spec.normalise` — a cell's text in the one form that is compared and sent;
* :mod:`~catalog_sync.spec.values` — the value kernels both of those and the checks share.

    from catalog_sync.spec import load_spec
    spec = load_spec("royalti")
    spec.keys          # ('id', 'upc', 'externalId', 'catalogNumber'): matched in that order
"""

from __future__ import annotations

from catalog_sync.spec.model import FieldSpec, ProviderSpec, RowRule, apply_house_rules, load_spec

__all__ = ["FieldSpec", "ProviderSpec", "RowRule", "apply_house_rules", "load_spec"]
