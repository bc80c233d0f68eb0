"""Synthetic submissions: test and demo data, never imported by the nightly path.

Everything here writes files that look like what the units send, so that the product
can be demonstrated, benchmarked and tested; the product itself never imports it.

- `membership`, `defects`, `render`, `files`: the shared core (plausible values per
  form, one defect per rule id, values as staff write them, CSV/XLSX bytes);
- `demo` (with `demo_plan`): the committed demo inbox `seeds/demo_inbox/`;
- `national` (with `universe`, `specs`): `grassroots generate`, any scale over the
  real registry, with a manifest of the injected defects;
- `corpus` (with `corpus_xlsx`) and `attacks`: the committed bad-input and attack
  corpora under `tests/corpus/`.
"""
