-- 未采用的填报数据 for BI: every rejected row with the reason in Chinese and its check order, the file, sheet
-- and row it came from and the cells as submitted. A view over the published marts.
with

rejected as (

    select * from {{ hqd.published_ref('fct_rejected_submissions') }}

),

final as (

    select
        rejected.submission_id,
        rejected.rejection_reason,
        reason_label.label_zh as rejection_reason_zh,
        reason_label.sort_order as rejection_reason_sort_order,
        rejected.file_name,
        rejected.sheet_name,
        rejected.row_number,
        rejected.loaded_at,
        rejected.region_code_raw,
        rejected.region_name_raw,
        rejected.indicator_code_raw,
        rejected.indicator_name_raw,
        indicator.indicator_name_zh as resolved_indicator_name_zh,
        rejected.period_raw,
        rejected.value_raw,
        rejected.unit_raw
    from rejected
    left join {{ hqd.published_ref('dim_indicator') }} as indicator
        on rejected.resolved_indicator_code = indicator.indicator_code
    {{ hqd.join_label('reason_label', 'rejection_reason', 'rejected.rejection_reason') }}

)

select * from final
