{#- Incremental builds: only what newly landed rows touch is recomputed.

    Raw rows are append-only and every file carries a load_seq. After a successful build, the on-run-end hook
    records per incremental model the last load_seq it has seen (hqd_build_state, in the target schema) with a
    fingerprint of every model's and seed's checksum. On the next build each incremental model recomputes
      * by load:  the rows of loads after that watermark (validation, rejections, file quality), or
      * by year:  every assessment year from the earliest year those loads touch onwards (a year's scores,
                  monitoring and two-colour rows depend on that year and the ones before it, never after);
                  the scoring path (config rebuilt_on='annual_values') counts annual rows only, since it
                  reads no quarter,
    and replaces them (delete+insert on load_seq, assessment year or file). A model that failed or was not
    selected keeps its old watermark and catches up next time; a changed model or seed (new fingerprint), a
    missing state row or --full-refresh recomputes everything. On Spark the models are plain tables.
    Macros, dbt_project.yml and profiles.yml are not in the fingerprint (dbt's graph has no macro checksums):
    after changing one of them, build once with --full-refresh. -#}

{#- A scenario run (macros/scenarios.sql) builds plain tables in its own schemas and never touches the state. -#}
{% macro incremental_materialization() -%}
    {{ return('table' if target.type == 'spark' or hqd.scenario_code() else 'incremental') }}
{%- endmacro %}

{% macro build_state_relation() -%}
    {{ return(api.Relation.create(database=target.database, schema=target.schema, identifier='hqd_build_state')) }}
{%- endmacro %}

{#- One text for the current definitions: any changed model or seed invalidates every watermark. -#}
{% macro build_fingerprint() -%}
    {%- set parts = [] -%}
    {%- for node in graph.nodes.values() | sort(attribute='unique_id') -%}
        {%- if node.resource_type in ['model', 'seed'] and node.package_name == project_name -%}
            {%- do parts.append(node.unique_id ~ '=' ~ node.checksum.checksum) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(local_md5(parts | join(';'))) }}
{%- endmacro %}

{#- The last load_seq this model has taken in, or 0 when it must start over. -#}
{% macro built_through_load_seq() -%}
    {%- if not execute or not is_incremental() or hqd.scenario_code() -%}{{ return(0) }}{%- endif -%}
    {{ return(hqd.load_seq_watermark(model.unique_id)) }}
{%- endmacro %}

{#- The watermark the build state holds for a model, 0 when there is none or the definitions changed since. -#}
{% macro load_seq_watermark(node_id) -%}
    {{ return(hqd.rebuild_state(node_id)[0]) }}
{%- endmacro %}

{#- The first assessment year this model must recompute: the earliest year of a row landed after its watermark
    (10000 when nothing new landed, 0 when everything is recomputed). A model configured with
    rebuilt_on='annual_values' (the scoring path: it reads annual values only) counts only annual rows, so a
    quarter's files leave it untouched. -#}
{% macro rebuild_from_year() -%}
    {%- if not execute or not is_incremental() or hqd.scenario_code() -%}{{ return(0) }}{%- endif -%}
    {{ return(hqd.year_rebuild_state(model.unique_id, config.get('rebuilt_on'))[1]) }}
{%- endmacro %}

{#- [watermark, first year] of a model rebuilt by year: the load_seq its build state holds (0 when there is none
    or the definitions changed since: then the first year is 0 too, everything is recomputed) and the earliest
    period year of raw rows landed after it (10000 when none), of annual rows only for rebuilt_on='annual_values'.
    Its model's build and its tests (rebuilt_years_condition) both read it. -#}
{% macro year_rebuild_state(node_id, rebuilt_on) -%}
    {%- set state = hqd.rebuild_state(node_id) -%}
    {%- if state[0] == 0 -%}{{ return([0, 0]) }}{%- endif -%}
    {%- set first_year = state[2] if rebuilt_on == 'annual_values' else state[1] -%}
    {{ return([state[0], 10000 if first_year is none else first_year | int]) }}
{%- endmacro %}

{#- [watermark, first year, first annual year] of one model, as rebuild_plan_select defines them: from the run's
    plan (one lookup; plan_year_rebuilds parsed the new rows' periods once) or, for a command that ran no
    on-run-start hook (dbt compile, dbt show, sqlfluff's templater), by the same query for this model alone. -#}
{% macro rebuild_state(node_id) -%}
    {%- set plan = hqd.rebuild_plan_relation() -%}
    {%- set state = hqd.build_state_relation() -%}
    {%- set raw = hqd.raw_submissions_relation() -%}
    {%- if adapter.get_relation(plan.database, plan.schema, plan.identifier) is not none -%}
        {%- set sql = "select load_seq_through, first_year, first_annual_year from " ~ plan
            ~ " where model_id = '" ~ node_id ~ "'" -%}
    {%- elif adapter.get_relation(state.database, state.schema, state.identifier) is none
        or adapter.get_relation(raw.database, raw.schema, raw.identifier) is none -%}
        {{ return([0, none, none]) }}
    {%- else -%}
        {%- set sql = hqd.rebuild_plan_select(state, raw, node_id) -%}
    {%- endif -%}
    {%- set rows = run_query(sql).rows -%}
    {%- if rows | length == 0 or rows[0][0] is none or rows[0][0] | int == 0 -%}{{ return([0, none, none]) }}{%- endif -%}
    {{ return([rows[0][0] | int, rows[0][1], rows[0][2]]) }}
{%- endmacro %}

{#- Per model in the build state (or one model): its watermark under the current definitions, and the first
    period year (and first annual year) of the raw rows landed after it, null when none landed. -#}
{% macro rebuild_plan_select(state, raw, node_id=none) -%}
    with watermarks as (
        select model_id, max(load_seq_through) as load_seq_through
        from {{ state }}
        where fingerprint = '{{ hqd.build_fingerprint() }}'
        {%- if node_id %} and model_id = '{{ node_id }}'{% endif %}
        group by model_id
    ),
    landed as (
        select
            load_seq,
            cast({{ hqd.raw_period_part(1) }} as integer) as period_year,
            {{ hqd.raw_period_part(3) }} is null as is_annual
        from {{ raw }}
        where load_seq > (select min(load_seq_through) from watermarks where load_seq_through > 0)
    )
    select
        watermarks.model_id,
        watermarks.load_seq_through,
        (select min(landed.period_year) from landed
            where landed.load_seq > watermarks.load_seq_through) as first_year,
        (select min(landed.period_year) from landed
            where landed.load_seq > watermarks.load_seq_through and landed.is_annual) as first_annual_year
    from watermarks
{%- endmacro %}

{% macro rebuild_plan_relation() -%}
    {{ return(api.Relation.create(database=target.database, schema=target.schema, identifier='hqd_rebuild_plan')) }}
{%- endmacro %}

{#- on-run-start: the run's plan (rebuild_plan_select) for every model in the build state. Every model rebuilt by
    year and each of its ~100 data tests asks this while compiling; asked of raw each time, that parsed the new
    rows' period texts once per question (national quarter: 318,000 rows, ~50 ms, 12.1 s of the tests' compile
    time). Nothing moves the build state or lands rows during a run, so the answers hold until on-run-end, which
    drops the plan. -#}
{% macro plan_year_rebuilds() -%}
    {%- if execute and target.type != 'spark' and not hqd.scenario_code() -%}
        {%- set plan = hqd.rebuild_plan_relation() -%}
        {%- set state = hqd.build_state_relation() -%}
        {%- set raw = hqd.raw_submissions_relation() -%}
        {%- set has_state = adapter.get_relation(state.database, state.schema, state.identifier) is not none
            and adapter.get_relation(raw.database, raw.schema, raw.identifier) is not none -%}
        {%- call statement('hqd_rebuild_plan', auto_begin=True) -%}
            drop table if exists {{ plan }};
            {%- if has_state %}
            create table {{ plan }} as {{ hqd.rebuild_plan_select(state, raw) }};
            {%- endif %}
        {%- endcall -%}
        {%- do adapter.commit() -%}
        {#- created by a hook, not a node: dbt's relation cache learns of it here -#}
        {%- do adapter.cache_dropped(plan) -%}
        {%- if has_state -%}{%- do adapter.cache_added(plan) -%}{%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- The year, and for a quarter its number, of a raw row's period text, parsed as staging parses it. -#}
{% macro raw_period_part(part) -%}
    {{ hqd.regexp_group(hqd.period_compact(hqd.period_clean('period_text')), '^([0-9]{4})(Q?([1-4]))?$', part) }}
{%- endmacro %}

{% macro raw_submissions_relation() -%}
    {{ return(api.Relation.create(database=target.database, schema=var('raw_schema'), identifier='submissions')) }}
{%- endmacro %}

{#- `where`-clause conditions for the rows an incremental run recomputes (true on a full build). -#}
{% macro rows_after_watermark(load_seq_column='load_seq') -%}
    {%- if is_incremental() -%}{{ load_seq_column }} > {{ hqd.built_through_load_seq() }}{%- else -%}1 = 1{%- endif -%}
{%- endmacro %}

{% macro years_to_rebuild(year_column='assessment_year', offset=0) -%}
    {%- if is_incremental() -%}
        {{ year_column }} >= {{ hqd.rebuild_from_year() - offset }}
    {%- else -%}1 = 1{%- endif -%}
{%- endmacro %}

{#- on-run-end: record the watermark of every incremental model this run built successfully. -#}
{% macro record_build_state(results) -%}
    {%- if execute and target.type != 'spark' and not hqd.scenario_code() -%}
        {%- set state = hqd.build_state_relation() -%}
        {%- set built = [] -%}
        {%- for result in results -%}
            {%- if result.node.resource_type == 'model' and result.status == 'success'
                and result.node.config.materialized == 'incremental' -%}
                {%- do built.append(result.node.unique_id) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- set raw = api.Relation.create(database=target.database, schema=var('raw_schema'), identifier='landing_files') -%}
        {%- if built and adapter.get_relation(raw.database, raw.schema, raw.identifier) is not none -%}
            {%- set sql -%}
                create table if not exists {{ state }} (
                    model_id {{ api.Column.translate_type('string') }},
                    load_seq_through integer,
                    fingerprint {{ api.Column.translate_type('string') }},
                    built_at {{ api.Column.translate_type('timestamp') }}
                );
                delete from {{ state }} where model_id in ('{{ built | join("', '") }}');
                insert into {{ state }}
                select models.model_id, coalesce(raw_loads.load_seq_through, 0), '{{ hqd.build_fingerprint() }}',
                    {{ dbt.current_timestamp() }}
                from (
                    {%- for model_id in built %}
                    select '{{ model_id }}' as model_id{% if not loop.last %} union all{% endif %}
                    {%- endfor %}
                ) as models
                cross join (select max(load_seq) as load_seq_through from {{ raw }}) as raw_loads;
            {%- endset -%}
            {%- do run_query(sql) -%}
            {%- do adapter.commit() -%}
        {%- endif -%}
        {#- the run's plan (plan_year_rebuilds) holds only until the build state moves -#}
        {%- do hqd.drop_rebuild_plan() -%}
    {%- endif -%}
{%- endmacro %}

{% macro drop_rebuild_plan() -%}
    {%- set plan = hqd.rebuild_plan_relation() -%}
    {%- call statement('hqd_rebuild_plan_drop', auto_begin=True) -%}drop table if exists {{ plan }}{%- endcall -%}
    {%- do adapter.commit() -%}
    {%- do adapter.cache_dropped(plan) -%}
{%- endmacro %}

{#- on-run-start: DuckDB's memory cap from HQD_DUCKDB_MEMORY_LIMIT (a global setting of the database instance). -#}
{% macro apply_memory_limit() -%}
    {%- set limit = env_var('HQD_DUCKDB_MEMORY_LIMIT', '') -%}
    {%- if target.type == 'duckdb' and limit -%}
        set memory_limit = '{{ limit }}'
    {%- endif -%}
{%- endmacro %}

{#- Data tests see only what this build rebuilt. A model rebuilt by year (delete+insert on assessment_year) keeps
    every earlier year as the last successful build left it, tested then; its rows and keys each belong to one
    year, so a broken row or a duplicate key can only be in the years rebuilt now. In an incremental build its
    generic tests therefore read `assessment_year >= <first year rebuilt>`: one new quarter tests one year, not
    every year again; so do those of a marts_zh view over it. A full build, --full-refresh, changed definitions, a
    model rebuilt by load, tables rebuilt whole, Spark (plain tables) and singular tests read everything; the
    staging view's tests read the loads its one load-rebuilt reader has not taken in (new_loads_condition). dbt's
    own `where` config still applies on top. The watermark is read before the on-run-end hook moves it, so the
    test sees the same years as its model. -#}
{% macro get_where_subquery(relation) -%}
    {%- set conditions = [] -%}
    {%- set where = config.get('where', '') -%}
    {%- set rebuilt = hqd.rebuilt_years_condition() or hqd.new_loads_condition() -%}
    {#- a `where` alone is passed on exactly as dbt does (Spark reads `where (x)) alias` as a column alias list) -#}
    {%- if where -%}{%- do conditions.append('(' ~ where ~ ')' if rebuilt else where) -%}{%- endif -%}
    {%- if rebuilt -%}{%- do conditions.append(rebuilt) -%}{%- endif -%}
    {%- if conditions -%}
        {{ return('(select * from ' ~ relation ~ ' where ' ~ (conditions | join(' and ')) ~ ') dbt_subquery') }}
    {%- endif -%}
    {{ return(relation) }}
{%- endmacro %}

{#- The model whose rebuilt years a tested node's rows follow: the node itself when it is rebuilt by year, or for
    a view with an assessment_year column (marts_zh) the one such model it reads (its other inputs are dims made
    from seeds, whose change changes the fingerprint); none otherwise. -#}
{% macro year_rebuilt_model_behind(node) -%}
    {%- if node.config.materialized == 'incremental' and node.config.unique_key == 'assessment_year' -%}
        {{ return(node.unique_id) }}
    {%- endif -%}
    {%- if node.config.materialized == 'view' and 'assessment_year' in node.columns -%}
        {%- set behind = [] -%}
        {%- for parent_id in node.depends_on.nodes -%}
            {%- set parent = graph.nodes.get(parent_id) -%}
            {%- if parent is not none and parent.config.materialized == 'incremental'
                and parent.config.unique_key == 'assessment_year' -%}
                {%- do behind.append(parent_id) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if behind | length == 1 -%}{{ return(behind[0]) }}{%- endif -%}
    {%- endif -%}
    {{ return('') }}
{%- endmacro %}

{% macro rebuilt_years_condition() -%}
    {%- if not execute or flags.FULL_REFRESH or hqd.scenario_code() or target.type == 'spark' -%}
        {{ return('') }}
    {%- endif -%}
    {%- set tested = graph.nodes.get(model.get('attached_node') or '') -%}
    {%- if tested is none -%}{{ return('') }}{%- endif -%}
    {%- set node_id = hqd.year_rebuilt_model_behind(tested) -%}
    {%- if not node_id -%}{{ return('') }}{%- endif -%}
    {%- set rebuilt = hqd.year_rebuild_state(node_id, graph.nodes[node_id].config.get('rebuilt_on')) -%}
    {%- if rebuilt[0] == 0 -%}{{ return('') }}{%- endif -%}
    {{ return('assessment_year >= ' ~ rebuilt[1]) }}
{%- endmacro %}

{#- A view read by exactly one model rebuilt by load (stg_landing__submissions -> int_submissions_validated): in an
    incremental build its generic tests read the loads after that model's watermark. A row's key is made from its
    load (file hash, sheet, row, column) and ingest never lands a known file again, so a new load's keys cannot meet
    an earlier load's; earlier loads were tested by the build that took them in (the watermark moves only when the
    model built, which dbt build allows only after the view's tests passed). A full build, --full-refresh, changed
    definitions (watermark 0), Spark and scenario runs read everything. National quarter: the staging view's
    `unique` test 12.9 s -> 0.5 s. -#}
{% macro new_loads_condition() -%}
    {%- if not execute or flags.FULL_REFRESH or hqd.scenario_code() or target.type == 'spark' -%}
        {{ return('') }}
    {%- endif -%}
    {%- set tested = graph.nodes.get(model.get('attached_node') or '') -%}
    {%- if tested is none or tested.config.materialized != 'view' -%}{{ return('') }}{%- endif -%}
    {%- set readers = [] -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model' and tested.unique_id in node.depends_on.nodes
            and node.config.materialized == 'incremental' and node.config.unique_key == 'load_seq' -%}
            {%- do readers.append(node.unique_id) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if readers | length != 1 -%}{{ return('') }}{%- endif -%}
    {%- set through = hqd.load_seq_watermark(readers[0]) | int -%}
    {{ return('load_seq > ' ~ through if through > 0 else '') }}
{%- endmacro %}
