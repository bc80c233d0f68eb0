-- The 18 indicators of docs/indicators.md (all computed in fct_indicator_values), from
-- the catalog (src/grassroots/catalog/indicators.yaml, seed ref_indicators).
select
    indicator_code,
    name_en,
    name_vi,
    value_kind,
    source_forms,
    uses_ratings,
    is_computed,
    sums_over_term,
    as_reported_levels,
    current_levels
from {{ ref('ref_indicators') }}
