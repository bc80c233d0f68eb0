-- P3 members_share_of_population: members above 25% of population.
-- One row per finding: the file, the row, the column, the value and the figures the
-- message quotes. {batch} is the night's loaded files (landing.cross_check_batch).
with checked as (select file_id, form_code, unit_code, cast(period as integer) as year from {batch} where form_code in ('DV'))
select d.file_id, d.row_number, 'members_end' as column_name,
    cast(d.members_end as text) as value, d.population,
    round(100.0 * d.members_end / nullif(d.population, 0), 1) as members_percent
from checked inner join raw.form_dv as d on checked.file_id = d.file_id
where d.members_end > 0.25 * d.population
