-- Screening for analysts (issue 15 item 4), never in the official score: per (year, level, indicator) how many
-- regions reported a value, and whether the reported values are so skewed and heavy-tailed that an outlier may
-- drive the efficacy bounds — COINr's check_SkewKurt rule: flagged when |skewness| >= 2 and kurtosis >= 3.5
-- (screening_parameters), with skewness and kurtosis as COINr computes them (e1071 type 2, Excel's SKEW and
-- KURT: the sample-adjusted G1 and excess G2); null with too few values (3 for skewness, 4 for kurtosis) or none
-- apart. On the raw values of all regions of the level (the classes share the indicators' units).
-- Incremental by year like fct_indicator_scores, whose annual rows are its only input (a quarter's files rebuild
-- nothing here); the pre-hook first removes every year being recomputed, so a year screening_parameters no longer
-- covers leaves no stale rows behind.
{{ config(
    materialized=hqd.incremental_materialization(),
    unique_key='assessment_year',
    rebuilt_on='annual_values',
    pre_hook="{% if is_incremental() %}delete from {{ this }} where {{ hqd.years_to_rebuild() }}{% endif %}"
) }}
with

scores as (

    select
        assessment_year,
        level,
        indicator_code,
        dimension_code,
        region_code,
        indicator_value,
        cast(indicator_value as {{ hqd.type_double() }}) as x
    from {{ ref('fct_indicator_scores') }}
    where {{ hqd.years_to_rebuild() }}

),

run_parameters as (

    select
        assessment_years.assessment_year,
        configured.skewness_threshold,
        configured.kurtosis_threshold
    from {{ ref('screening_parameters') }} as configured
    inner join {{ ref('assessment_years') }} as assessment_years
        on {{ hqd.in_year_range('assessment_years.assessment_year', 'configured') }}

),

counts as (

    select
        assessment_year,
        level,
        indicator_code,
        dimension_code,
        count(*) as regions_assessed,
        count(x) as values_reported,
        -- the exact decimal mean: the same whatever order the rows are read in
        cast(avg(indicator_value) as {{ hqd.type_double() }}) as mean_value
    from scores
    group by assessment_year, level, indicator_code, dimension_code

),

-- central moments about the mean: sums of the 2nd, 3rd and 4th powers of the deviations. Floating-point sums
-- depend on the order they add up in, and a full and an incremental build store the scores in different orders:
-- summed as running sums in region order (the last row holds the total), they come out the same every build.
deviations as (

    select
        counts.assessment_year,
        counts.level,
        counts.indicator_code,
        counts.dimension_code,
        counts.regions_assessed,
        counts.values_reported,
        counts.mean_value,
        scores.region_code,
        scores.x - counts.mean_value as deviation
    from counts
    left join scores
        on counts.assessment_year = scores.assessment_year
            and counts.level = scores.level
            and counts.indicator_code = scores.indicator_code
            and scores.x is not null

),

running_moments as (

    select
        *,
        sum(power(deviation, 2)) over ordered_rows as m2,
        sum(power(deviation, 3)) over ordered_rows as m3,
        sum(power(deviation, 4)) over ordered_rows as m4,
        row_number() over (
            partition by assessment_year, level, indicator_code order by region_code desc
        ) as rows_after
    from deviations
    window ordered_rows as (
        partition by assessment_year, level, indicator_code order by region_code
        rows between unbounded preceding and current row
    )

),

moments as (

    select
        assessment_year,
        level,
        indicator_code,
        dimension_code,
        regions_assessed,
        values_reported,
        mean_value,
        cast(values_reported as {{ hqd.type_double() }}) as n,
        m2,
        m3,
        m4
    from running_moments
    where rows_after = 1

),

shape as (

    select
        *,
        case when n >= 2 then sqrt(m2 / (n - 1)) end as standard_deviation,
        -- G1 = sqrt(n) m3 / m2^1.5 · sqrt(n (n − 1)) / (n − 2)
        case
            when n >= 3 and m2 > 0 then sqrt(n) * m3 / power(m2, 1.5) * sqrt(n * (n - 1)) / (n - 2)
        end as skewness,
        -- G2 = ((n + 1) (n m4 / m2² − 3) + 6) (n − 1) / ((n − 2) (n − 3))
        case
            when n >= 4 and m2 > 0 then ((n + 1) * (n * m4 / (m2 * m2) - 3) + 6) * (n - 1) / ((n - 2) * (n - 3))
        end as kurtosis
    from moments

),

final as (

    select
        {{ hqd.composite_key(['shape.assessment_year', 'shape.level', 'shape.indicator_code']) }}
            as indicator_screening_key,
        shape.assessment_year,
        shape.level,
        shape.indicator_code,
        shape.dimension_code,
        cast(shape.regions_assessed as integer) as regions_assessed,
        cast(shape.values_reported as integer) as values_reported,
        cast(shape.regions_assessed - shape.values_reported as integer) as values_missing,
        cast({{ hqd.divide('shape.values_reported', 'shape.regions_assessed') }} as {{ hqd.type_measure() }})
            as availability_share,
        cast(shape.mean_value as {{ hqd.type_measure() }}) as mean_value,
        cast(shape.standard_deviation as {{ hqd.type_measure() }}) as standard_deviation,
        cast(shape.skewness as {{ hqd.type_measure() }}) as skewness,
        cast(shape.kurtosis as {{ hqd.type_measure() }}) as kurtosis,
        coalesce(
            abs(shape.skewness) >= run_parameters.skewness_threshold
            and shape.kurtosis >= run_parameters.kurtosis_threshold,
            false
        ) as is_outlier_flagged
    from shape
    inner join run_parameters
        on shape.assessment_year = run_parameters.assessment_year

)

select * from final
