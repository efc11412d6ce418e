{#- The UNDP HDR 2023/24 composite-indices time series (reference/undp_hdr/, byte for byte as published; Latin-1,
    wide: one <var>_<year> column per variable and year) as the engine's long input: one row per country or
    aggregate, year and HDI component. Only the four components are read; the published HDI itself is not an
    input (tests/models/test_composite_hdi.py compares against it). DuckDB only (read_csv, unpivot). -#}
{%- set path = var('undp_hdr_csv', 'reference/undp_hdr/HDR23-24_Composite_indices_complete_time_series.csv') -%}

with published as (
    select *
    from read_csv('{{ path }}', header = true, encoding = 'latin-1', all_varchar = true)
),

long_values as (
    unpivot published
    on columns('^(le|eys|mys|gnipc)_[0-9]{4}$')
    into name variable_year value value_text
)

select
    'hdi' as index_code,
    iso3 as unit_code,
    country as unit_name,
    starts_with(iso3, 'ZZ') as is_aggregate,
    split_part(variable_year, '_', 1) as indicator_code,
    -- the engine's key column is named year (index_code, unit_code, year), as the published series has it
    cast(split_part(variable_year, '_', 2) as integer) as year,  -- noqa: RF04
    cast(value_text as double) as indicator_value
from long_values
where nullif(trim(value_text), '') is not null
