/**
 * Resets a database to "no project here" without dropping schema public:
 * drops every function, type, table and view in public that is not an
 * extension member. Dropping public itself would take an extension created
 * without a schema (pg_cron 1.4 names none in its control file) and its
 * other jobs with it, and on a hosted-like database would lose the grants
 * and default privileges public carries there.
 */
import type { Sql } from "postgres";

const DROP_PUBLIC_OBJECTS = `
  do $$
  declare
    v_functions text[] := array(
      select pg_catalog.format('public.%I(%s)', p.proname, pg_catalog.oidvectortypes(p.proargtypes))
        from pg_catalog.pg_proc p
       where p.pronamespace = 'public'::regnamespace
         and not exists (select 1 from pg_catalog.pg_depend d
                          where d.classid = 'pg_catalog.pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e'));
    -- Tables, views and standalone composite types; identity sequences go with their tables.
    v_relations text[] := array(
      select pg_catalog.format('public.%I', c.relname) from pg_catalog.pg_class c
       where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p', 'v', 'm', 'c')
         and not exists (select 1 from pg_catalog.pg_depend d
                          where d.classid = 'pg_catalog.pg_class'::regclass and d.objid = c.oid and d.deptype = 'e'));
    v_name text;
  begin
    -- Names are captured first: a cascade may already have dropped a later one.
    -- Functions go first, while the row types in their signatures still exist.
    foreach v_name in array v_functions loop
      if pg_catalog.to_regprocedure(v_name) is not null then
        execute pg_catalog.format('drop function %s cascade', v_name);
      end if;
    end loop;
    foreach v_name in array v_relations loop
      if pg_catalog.to_regclass(v_name) is not null then
        execute pg_catalog.format('drop %s %s cascade',
          case (select c.relkind from pg_catalog.pg_class c where c.oid = pg_catalog.to_regclass(v_name))
            when 'v' then 'view' when 'm' then 'materialized view' when 'c' then 'type' else 'table' end,
          v_name);
      end if;
    end loop;
  end
  $$`;

export async function dropProjectObjects(sql: Sql): Promise<void> {
  await sql.unsafe(DROP_PUBLIC_OBJECTS);
}
