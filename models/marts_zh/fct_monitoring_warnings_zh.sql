-- 季度监测预警(红黄蓝) for BI: each quarter, region and indicator with names, the pro-rata target and
-- shortfall, the warning level in Chinese with its severity order, the run and whether it cleared.
-- A view over the published marts.
with

warnings as (

    select * from {{ hqd.published_ref('fct_monitoring_warnings') }}

),

final as (

    select
        warnings.monitoring_key,
        warnings.period_code,
        period.period_label_zh,
        warnings.assessment_year,
        warnings.quarter,
        warnings.is_half_year_evaluation,
        warnings.region_code,
        region.region_name,
        level_label.label_zh as level_zh,
        level_label.sort_order as level_sort_order,
        class_label.label_zh as class_name_zh,
        class_label.sort_order as class_sort_order,
        warnings.indicator_code,
        indicator.indicator_name_zh,
        indicator.unit,
        indicator.lead_department,
        target_label.label_zh as target_kind_zh,
        {{ hqd.display_number('warnings.ytd_value') }} as ytd_value,
        warnings.is_value_missing,
        {{ hqd.display_number('warnings.annual_target') }} as annual_target,
        {{ hqd.display_number('warnings.pro_rata_target') }} as pro_rata_target,
        {{ hqd.display_number('warnings.shortfall_pct') }} as shortfall_pct,
        warnings.warning_level,
        level_of_warning.label_zh as warning_level_zh,
        level_of_warning.sort_order as warning_level_sort_order,
        warnings.is_warning,
        warnings.consecutive_warning_quarters,
        warnings.warning_since_period_code,
        warnings.is_cleared
    from warnings
    {{ hqd.join_region_in_year('region', 'warnings.region_code', 'warnings.assessment_year') }}
    left join {{ hqd.published_ref('dim_indicator') }} as indicator
        on warnings.indicator_code = indicator.indicator_code
    left join {{ hqd.published_ref('dim_period') }} as period
        on warnings.period_code = period.period_code
    {{ hqd.join_label('level_label', 'level', 'warnings.level') }}
    {{ hqd.join_class_label('class_label', 'warnings.level', 'warnings.class_code') }}
    {{ hqd.join_label('target_label', 'target_kind', 'warnings.target_kind') }}
    {{ hqd.join_label('level_of_warning', 'warning_level', 'warnings.warning_level') }}

)

select * from final
