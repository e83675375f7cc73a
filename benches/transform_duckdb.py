"""`bptmig transform` redone as DuckDB SQL joins over the same work directory, for
benches/transform_duckdb.sh.

    transform_duckdb.py transform WORKDIR OUT   rewrite WORKDIR/extract into OUT/<TABLE>.parquet
    transform_duckdb.py digest WORKDIR OUT      compare WORKDIR/transform with OUT, per table

The rules mirror crates/transform/src/{stage,maps,principals}.rs for a run with no mapping
file, no entity maps, `unmapped_user = unmapped_group = "null"`,
`unmapped_definition = "skip-tree"`, `ids = "renumber"` and `clear_scheduler_locks = true`:

* definitions: source -> target by (eSpace SS_KEY, SS_KEY), active target rows first, then the
  smallest ID;
* a tree (root = TOP_PROCESS_ID, or the process itself when it has no parent) holding any
  process, activity, input, output or activity output whose definition has no match is left
  out of every table;
* new IDs: target MAX_ID + row number in old-ID order, per instance table;
* instance FKs through those maps, definition FKs through the definition maps, users/groups/
  tenants by name (+ mapped tenant), eSpaces by SS_KEY; anything unmapped becomes NULL;
* IS_RUNNING_SINCE / IS_RUNNING_AT become NULL; everything else is copied;
* OSSYS_BPM_PROCESS and OSSYS_BPM_ACTIVITY get BPTMIG_LEVEL (tree depth of the process).
"""

import glob
import os
import shutil
import sys

import duckdb

PROCESS = "OSSYS_BPM_PROCESS"
ACTIVITY = "OSSYS_BPM_ACTIVITY"
P_INPUT = "OSSYS_BPM_PROCESS_INPUT"
P_OUTPUT = "OSSYS_BPM_PROCESS_OUTPUT"
A_OUTPUT = "OSSYS_BPM_ACTIVITY_OUTPUT"
INSTANCE = [PROCESS, ACTIVITY, P_INPUT, P_OUTPUT, A_OUTPUT]
LEVEL = "BPTMIG_LEVEL"

# Column roles, as in crates/model/src/catalog.rs. ("key",), ("inst", map), ("def", map),
# ("user",), ("group",), ("tenant",), ("espace",), ("sched",). Anything else is copied.
TENANT = ("tenant", "tmap")
USER = ("user", "umap")
ROLES = {
    PROCESS: {
        "ID": ("key",),
        "TENANT_ID": TENANT,
        "CREATED_BY": USER,
        "PROCESS_DEF_ID": ("def", "dm_pd"),
        "PARENT_PROCESS_ID": ("inst", "map_p"),
        "PARENT_ACTIVITY_ID": ("inst", "map_a"),
        "TOP_PROCESS_ID": ("inst", "map_p"),
        "LAST_MODIFIED_BY": USER,
        "SUSPENDED_BY": USER,
    },
    ACTIVITY: {
        "ID": ("key",),
        "TENANT_ID": TENANT,
        "ACTIVITY_DEF_ID": ("def", "dm_ad"),
        "PROCESS_ID": ("inst", "map_p"),
        "USER_ID": USER,
        "IS_RUNNING_SINCE": ("sched",),
        "IS_RUNNING_AT": ("sched",),
        "PRECEDENT_ACTIVITY_ID": ("inst", "map_a"),
        "GROUP_ID": ("group", "gmap"),
    },
    P_INPUT: {
        "ID": ("key",),
        "TENANT_ID": TENANT,
        "INPUT_DEF_ID": ("def", "dm_pid"),
        "PROCESS_ID": ("inst", "map_p"),
        "ACTIVITY_ID": ("inst", "map_a"),
    },
    P_OUTPUT: {
        "ID": ("key",),
        "TENANT_ID": TENANT,
        "OUTPUT_DEF_ID": ("def", "dm_pod"),
        "PROCESS_ID": ("inst", "map_p"),
    },
    A_OUTPUT: {
        "ID": ("key",),
        "TENANT_ID": TENANT,
        "OUTPUT_DEF_ID": ("def", "dm_aod"),
        "ACTIVITY_ID": ("inst", "map_a"),
    },
}
OSEVT_ROLES = {
    "_ESPACE_ID": ("espace", "emap"),
    "_TENANT_ID": TENANT,
    "_ACTIVITY_ID": ("inst", "map_a"),
    "_PROCESS_DEF_ID": ("def", "dm_pd"),
}
OWN_MAP = {PROCESS: "map_p", ACTIVITY: "map_a", P_INPUT: "map_pi", P_OUTPUT: "map_po",
           A_OUTPUT: "map_ao"}


def q(name):
    return '"' + name.replace('"', '""') + '"'


def lit(s):
    return "'" + s.replace("'", "''") + "'"


def tables(workdir):
    """Extracted tables (directories with a manifest), instance tables first."""
    ex = os.path.join(workdir, "extract")
    names = sorted(
        n for n in os.listdir(ex)
        if n != "snapshot" and os.path.isfile(os.path.join(ex, n, "manifest.json"))
    )
    return sorted(names, key=lambda n: (INSTANCE.index(n) if n in INSTANCE else 99, n))


def parts(workdir, stage, table):
    return f"read_parquet({lit(os.path.join(workdir, stage, table, 'part-*.parquet'))})"


def columns(con, rel):
    return [(r[0], r[1]) for r in con.execute(f"DESCRIBE SELECT * FROM {rel}").fetchall()]


def transform(workdir, out):
    os.makedirs(out, exist_ok=True)
    tmp = os.path.join(out, ".duckdb_tmp")
    con = duckdb.connect()
    con.execute(f"SET temp_directory = {lit(tmp)}")
    con.execute("SET preserve_insertion_order = false")
    snap = {s: os.path.join(workdir, "extract", "snapshot", s) for s in ("source", "target")}
    names = tables(workdir)
    src = {n: parts(workdir, "extract", n) for n in names}
    for n in INSTANCE:
        if n not in src:
            sys.exit(f"{workdir}: no extracted {n}")

    def snapshot(side, table):
        return f"read_parquet({lit(os.path.join(snap[side], table + '.parquet'))})"

    # ---- definition keys of each side: (ID, eSpace SS_KEY, SS_KEY, active)
    for s, side in (("s", "source"), ("t", "target")):
        esp = snapshot(side, "OSSYS_ESPACE")
        con.execute(f"""
            CREATE TEMP TABLE {s}_pd AS
            SELECT d.ID, e.SS_KEY AS esp, d.SS_KEY AS k, coalesce(d.IS_ACTIVE, true) AS act
            FROM {snapshot(side, 'OSSYS_BPM_PROCESS_DEFINITION')} d
            LEFT JOIN {esp} e ON d.ESPACE_ID = e.ID WHERE d.ID IS NOT NULL""")
        for short, table, link, parent in (
            ("pid", "OSSYS_BPM_PROCESS_INPUT_DEF", "PROCESS_DEF_ID", "pd"),
            ("pod", "OSSYS_BPM_PROCESS_OUTPUT_DEF", "PROCESS_DEF_ID", "pd"),
            ("ad", "OSSYS_BPM_ACTIVITY_DEFINITION", "PROCESS_DEF_ID", "pd"),
            ("aod", "OSSYS_BPM_ACTIVITY_OUTPUT_DEF", "ACTIVITY_DEF_ID", "ad"),
        ):
            con.execute(f"""
                CREATE TEMP TABLE {s}_{short} AS
                SELECT d.ID, p.esp, d.SS_KEY AS k, coalesce(d.IS_ACTIVE, true) AS act
                FROM {snapshot(side, table)} d
                LEFT JOIN {s}_{parent} p ON d.{link} = p.ID WHERE d.ID IS NOT NULL""")
    for short in ("pd", "pid", "pod", "ad", "aod"):
        con.execute(f"""
            CREATE TEMP TABLE dm_{short} AS
            WITH best AS (
                SELECT esp, k, first(ID ORDER BY (NOT act), ID) AS tid FROM t_{short}
                WHERE esp IS NOT NULL AND k IS NOT NULL GROUP BY esp, k)
            SELECT s.ID AS old, b.tid::INTEGER AS new
            FROM s_{short} s JOIN best b ON s.esp = b.esp AND s.k = b.k""")

    # ---- eSpaces, tenants, users, groups
    con.execute(f"""
        CREATE TEMP TABLE emap AS
        SELECT s.ID AS old, t.ID::INTEGER AS new
        FROM {snapshot('source', 'OSSYS_ESPACE')} s
        JOIN {snapshot('target', 'OSSYS_ESPACE')} t ON s.SS_KEY = t.SS_KEY""")
    con.execute(f"""
        CREATE TEMP TABLE tmap AS
        SELECT s.ID AS old, min(t.ID)::INTEGER AS new
        FROM {snapshot('source', 'OSSYS_TENANT')} s
        JOIN {snapshot('target', 'OSSYS_TENANT')} t
          ON coalesce(s.NAME, '') = coalesce(t.NAME, '')
        WHERE s.ID IS NOT NULL AND t.ID IS NOT NULL
        GROUP BY s.ID HAVING count(*) = 1""")
    for short, table, name in (("umap", "OSSYS_USER", "USERNAME"), ("gmap", "OSSYS_GROUP", "NAME")):
        con.execute(f"""
            CREATE TEMP TABLE {short} AS
            SELECT s.ID AS old, min(t.ID)::INTEGER AS new
            FROM {snapshot('source', table)} s
            LEFT JOIN tmap m ON s.TENANT_ID = m.old
            JOIN {snapshot('target', table)} t
              ON coalesce(s.{name}, '') = coalesce(t.{name}, '')
             AND ((s.TENANT_ID IS NULL AND t.TENANT_ID IS NULL) OR t.TENANT_ID = m.new)
            WHERE s.ID IS NOT NULL AND t.ID IS NOT NULL
            GROUP BY s.ID HAVING count(*) = 1""")

    # ---- trees: root of every process and activity, then the roots to skip
    con.execute(f"""
        CREATE TEMP TABLE proc AS
        SELECT ID, PARENT_PROCESS_ID AS par,
               coalesce(TOP_PROCESS_ID, CASE WHEN PARENT_PROCESS_ID IS NULL THEN ID END) AS root,
               PROCESS_DEF_ID AS def
        FROM {src[PROCESS]} WHERE ID IS NOT NULL""")
    con.execute(f"""
        CREATE TEMP TABLE act AS
        SELECT a.ID, a.PROCESS_ID AS pid, p.root, a.ACTIVITY_DEF_ID AS def
        FROM {src[ACTIVITY]} a LEFT JOIN proc p ON a.PROCESS_ID = p.ID""")
    con.execute(f"""
        CREATE TEMP TABLE skip AS
        SELECT root FROM proc
         WHERE root IS NOT NULL AND def IS NOT NULL AND def NOT IN (SELECT old FROM dm_pd)
        UNION
        SELECT root FROM act
         WHERE root IS NOT NULL AND def IS NOT NULL AND def NOT IN (SELECT old FROM dm_ad)
        UNION
        SELECT p.root FROM {src[P_INPUT]} x JOIN proc p ON x.PROCESS_ID = p.ID
         WHERE p.root IS NOT NULL AND x.INPUT_DEF_ID IS NOT NULL
           AND x.INPUT_DEF_ID NOT IN (SELECT old FROM dm_pid)
        UNION
        SELECT p.root FROM {src[P_OUTPUT]} x JOIN proc p ON x.PROCESS_ID = p.ID
         WHERE p.root IS NOT NULL AND x.OUTPUT_DEF_ID IS NOT NULL
           AND x.OUTPUT_DEF_ID NOT IN (SELECT old FROM dm_pod)
        UNION
        SELECT a.root FROM {src[A_OUTPUT]} x JOIN act a ON x.ACTIVITY_ID = a.ID
         WHERE a.ID IS NOT NULL AND a.root IS NOT NULL AND x.OUTPUT_DEF_ID IS NOT NULL
           AND x.OUTPUT_DEF_ID NOT IN (SELECT old FROM dm_aod)""")

    # Tree level of every process: hops up PARENT_PROCESS_ID (a parent missing from the
    # extract still counts as one hop, as in stage.rs).
    con.execute("""
        CREATE TEMP TABLE lvl AS
        WITH RECURSIVE r(ID, l) AS (
            SELECT ID, CASE WHEN par IS NULL THEN 0 ELSE 1 END FROM proc
             WHERE par IS NULL OR par NOT IN (SELECT ID FROM proc)
            UNION ALL
            SELECT c.ID, r.l + 1 FROM proc c JOIN r ON c.par = r.ID WHERE r.l < 10000)
        SELECT ID, l::INTEGER AS l FROM r""")

    # ---- new IDs: target MAX_ID + row number in old-ID order, over kept rows
    base = dict(con.execute(f"""
        SELECT "TABLE", coalesce(MAX_ID, 0)
        FROM {snapshot('target', 'instance_stats')}""").fetchall())
    b = {n: int(base.get(n) or 0) for n in INSTANCE}
    con.execute(f"""
        CREATE TEMP TABLE map_p AS
        SELECT p.ID AS old, ({b[PROCESS]} + row_number() OVER (ORDER BY p.ID))::INTEGER AS new,
               l.l AS lvl
        FROM proc p LEFT JOIN lvl l ON p.ID = l.ID
        WHERE p.root IS NOT NULL AND p.root NOT IN (SELECT root FROM skip)""")
    con.execute(f"""
        CREATE TEMP TABLE map_a AS
        SELECT a.ID AS old, ({b[ACTIVITY]} + row_number() OVER (ORDER BY a.ID))::INTEGER AS new,
               l.l AS lvl
        FROM act a LEFT JOIN lvl l ON a.pid = l.ID
        WHERE a.ID IS NOT NULL AND a.root IS NOT NULL AND a.root NOT IN (SELECT root FROM skip)""")
    for table, short, owner, owners in (
        (P_INPUT, "map_pi", "PROCESS_ID", "proc"),
        (P_OUTPUT, "map_po", "PROCESS_ID", "proc"),
        (A_OUTPUT, "map_ao", "ACTIVITY_ID", "act"),
    ):
        con.execute(f"""
            CREATE TEMP TABLE {short} AS
            SELECT x.ID AS old, ({b[table]} + row_number() OVER (ORDER BY x.ID))::INTEGER AS new
            FROM {src[table]} x JOIN {owners} o ON x.{owner} = o.ID
            WHERE x.ID IS NOT NULL AND o.ID IS NOT NULL AND o.root IS NOT NULL
              AND o.root NOT IN (SELECT root FROM skip)""")
    con.execute("DROP TABLE act")
    con.execute("DROP TABLE proc")

    # ---- rewrite every table
    for name in names:
        roles = ROLES.get(name, OSEVT_ROLES)
        roles = {k.upper(): v for k, v in roles.items()}
        keyed = name in ROLES
        if keyed:
            own, key = OWN_MAP[name], "ID"
        else:
            own, key = "map_a", "_ACTIVITY_ID"
        cols = columns(con, src[name])
        key_col = next(c for c, _ in cols if c.upper() == key)
        select, joins = [], [f"JOIN {own} k ON x.{q(key_col)} = k.old"]
        for i, (col, ty) in enumerate(cols):
            role = roles.get(col.upper(), ("value",))
            if role[0] == "key":
                expr = "k.new"
            elif role[0] in ("inst", "def", "user", "group", "tenant", "espace"):
                joins.append(f"LEFT JOIN {role[1]} j{i} ON x.{q(col)} = j{i}.old")
                expr = f"j{i}.new"
            elif role[0] == "sched":
                expr = "NULL"
            else:
                select.append(f"x.{q(col)}")
                continue
            select.append(f"CAST({expr} AS {ty}) AS {q(col)}")
        if name in (PROCESS, ACTIVITY):
            select.append(f"k.lvl::INTEGER AS {LEVEL}")
        dest = os.path.join(out, name + ".parquet")
        con.execute(f"""
            COPY (SELECT {', '.join(select)} FROM {src[name]} x {' '.join(joins)})
            TO {lit(dest)} (FORMAT parquet)""")
    shutil.rmtree(tmp, ignore_errors=True)


def digest(workdir, out):
    """Order-independent digest of each table of both outputs; exit 1 if any differs."""
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    ok = True
    print(f"{'table':<28} {'rows bptmig':>12} {'rows duckdb':>12} "
          f"{'digest bptmig':>40} {'digest duckdb':>40}  equal")
    for name in tables(workdir):
        mine = os.path.join(workdir, "transform", name)
        theirs = os.path.join(out, name + ".parquet")
        files = glob.glob(os.path.join(mine, "part-*.parquet"))
        a = parts(workdir, "transform", name) if files else None
        bq = f"read_parquet({lit(theirs)})"
        cols_b = columns(con, bq)
        cols_a = columns(con, a) if a else cols_b
        if [c for c, _ in cols_a] != [c for c, _ in cols_b]:
            print(f"{name}: columns differ:\n  bptmig {cols_a}\n  duckdb {cols_b}")
            ok = False
            continue
        # Both sides hashed over the same columns cast to the same (bptmig's) types.
        expr = ", ".join(f"CAST({q(c)} AS {t})" for c, t in cols_a)
        sql = "SELECT count(*), coalesce(sum(hash({e})), 0)::VARCHAR FROM {rel}"
        ra = con.execute(sql.format(e=expr, rel=a)).fetchall()[0] if a else (0, "0")
        rb = con.execute(sql.format(e=expr, rel=bq)).fetchall()[0]
        eq = tuple(ra) == tuple(rb)
        ok &= eq
        print(f"{name:<28} {ra[0]:>12} {rb[0]:>12} {ra[1]:>40} {rb[1]:>40}  "
              f"{'yes' if eq else 'NO'}")
    return ok


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in ("transform", "digest"):
        sys.exit(__doc__.split("\n\n")[1])
    if sys.argv[1] == "transform":
        transform(sys.argv[2], sys.argv[3])
    else:
        sys.exit(0 if digest(sys.argv[2], sys.argv[3]) else 1)
