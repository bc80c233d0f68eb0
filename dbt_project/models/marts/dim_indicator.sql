-- The 18 indicators of indicators.md (all computed in fct_indicator_values).
select
    indicator_code,
    name_en,
    name_vi,
    value_kind,
    source_forms,
    uses_ratings,
    is_computed,
    indicator_code in ('admissions', 'member_net_change') as sums_over_term,
    case
        when source_forms = 'CB' then 'village, commune, district, province, nation'
        when source_forms = 'TC' then 'district, province, nation'
        else 'commune, district, province, nation'
    end as as_reported_levels,
    case
        when source_forms = 'TC' then 'province, nation'
        else 'commune, province, nation'
    end as current_levels
from (
    values
    (
        'members_total', 'Party members at year end',
        'Tổng số đảng viên cuối năm', 'count', 'DV, TC', false, true
    ),
    (
        'member_net_change', 'Net change in members',
        'Số đảng viên tăng, giảm trong năm', 'count', 'DV, TC', false, true
    ),
    (
        'member_growth_pct', 'Member growth, %',
        'Tỷ lệ tăng đảng viên (%)', 'percent', 'DV, TC', false, true
    ),
    (
        'admissions', 'New members admitted',
        'Số đảng viên kết nạp mới', 'count', 'DV', false, true
    ),
    (
        'admission_rate_pct', 'Admissions per 100 members',
        'Số đảng viên kết nạp mới trên 100 đảng viên', 'percent', 'DV', false, true
    ),
    (
        'probationary_share_pct', 'Probationary members, %',
        'Tỷ lệ đảng viên dự bị (%)', 'percent', 'DV', false, true
    ),
    (
        'members_per_population_pct', 'Members per 100 inhabitants',
        'Số đảng viên trên 100 dân', 'percent', 'DV', false, true
    ),
    (
        'villages', 'Villages and residential groups',
        'Số thôn, tổ dân phố', 'count', 'CB', false, true
    ),
    (
        'independent_branch_ratio_pct',
        'Villages whose branch meets independently, %',
        'Tỷ lệ thôn, tổ dân phố có chi bộ sinh hoạt độc lập (%)', 'percent', 'CB',
        false, true
    ),
    (
        'joint_branch_villages', 'Villages meeting jointly',
        'Số thôn, tổ dân phố sinh hoạt ghép', 'count', 'CB', false, true
    ),
    (
        'villages_without_branch', 'Villages with no branch',
        'Số thôn, tổ dân phố chưa có chi bộ', 'count', 'CB', false, true
    ),
    (
        'villages_without_members', 'Villages with no party member',
        'Số thôn, tổ dân phố chưa có đảng viên', 'count', 'CB', false, true
    ),
    (
        'base_orgs', 'Base party organizations',
        'Số tổ chức cơ sở đảng', 'count', 'TC', false, true
    ),
    (
        'subordinate_units',
        'Branches and sub-committees under base organizations',
        'Số chi bộ, đảng bộ bộ phận trực thuộc', 'count', 'TC', false, true
    ),
    (
        'orgs_good_or_above_pct', 'Base organizations rated good or above, %',
        'Tỷ lệ tổ chức cơ sở đảng hoàn thành tốt nhiệm vụ trở lên (%)', 'percent',
        'TC', true, true
    ),
    (
        'orgs_excellent_pct', 'Base organizations rated excellent, %',
        'Tỷ lệ tổ chức cơ sở đảng hoàn thành xuất sắc nhiệm vụ (%)', 'percent',
        'TC', true, true
    ),
    (
        'orgs_not_completed', 'Base organizations that did not complete their tasks',
        'Số tổ chức cơ sở đảng không hoàn thành nhiệm vụ', 'count', 'TC', true, true
    ),
    (
        'branches_good_or_above_pct', 'Village branches rated good or above, %',
        'Tỷ lệ chi bộ thôn, tổ dân phố hoàn thành tốt nhiệm vụ trở lên (%)',
        'percent', 'CB', true, true
    )
) as indicators (
    indicator_code,
    name_en,
    name_vi,
    value_kind,
    source_forms,
    uses_ratings,
    is_computed
)
