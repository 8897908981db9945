#include "snapshot_access.h"

namespace {

const char *qualified_name(Oid relid) {
    char *schema = get_namespace_name(get_rel_namespace(relid));
    char *table = get_rel_name(relid);
    return quote_qualified_identifier(schema, table);
}

void require_column(Relation rel, AttrNumber attnum) {
    if (attnum == InvalidAttrNumber) return;
    if (pg_attribute_aclcheck(RelationGetRelid(rel), attnum, GetUserId(), ACL_SELECT) !=
        ACLCHECK_OK)
        aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_TABLE, RelationGetRelationName(rel));
}

}  // namespace

void snapshot_check_table_access(Oid relid) {
    char relkind = get_rel_relkind(relid);
    if (relkind == '\0')
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE),
                        errmsg("relation with OID %u does not exist", relid)));
    Oid namespace_oid = get_rel_namespace(relid);
    // pg_authid and every other catalog: never data for a sink, whoever asks.
    if (IsCatalogRelationOid(relid) || IsCatalogNamespace(namespace_oid) ||
        IsToastNamespace(namespace_oid))
        ereport(ERROR,
                (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                 errmsg("walcast does not snapshot system catalog \"%s\"", qualified_name(relid))));
    if (relkind == RELKIND_PARTITIONED_TABLE)
        ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
                        errmsg("\"%s\" is a partitioned table; snapshot its partitions",
                               qualified_name(relid))));
    if (relkind != RELKIND_RELATION)
        ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
                        errmsg("\"%s\" is not a table", qualified_name(relid)),
                        errdetail("walcast snapshots ordinary tables only.")));

    // Reading by OID skips the name lookup that needs USAGE on the schema; a query
    // naming the table could not get past it, so neither may this function.
    AclResult schema_access = WALCAST_NAMESPACE_ACLCHECK(namespace_oid, GetUserId(), ACL_USAGE);
    if (schema_access != ACLCHECK_OK)
        aclcheck_error(schema_access, OBJECT_SCHEMA, get_namespace_name(namespace_oid));
    if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK &&
        pg_attribute_aclcheck_all(relid, GetUserId(), ACL_SELECT, ACLMASK_ANY) != ACLCHECK_OK)
        aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_TABLE, get_rel_name(relid));

    // Policies filter rows per query; a snapshot of the whole table would bypass them.
    if (check_enable_rls(relid, InvalidOid, false) == RLS_ENABLED)
        ereport(ERROR,
                (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                 errmsg("walcast does not snapshot \"%s\": row-level security applies to role "
                        "\"%s\"",
                        qualified_name(relid), GetUserNameFromId(GetUserId(), false)),
                 errdetail("A snapshot would contain rows the policies hide from this role."),
                 errhint("Snapshot as a role with BYPASSRLS (or as the table's owner unless row "
                         "security is forced), or leave the table out with "
                         "table.exclude.list.")));
}

void snapshot_check_column_access(Relation rel, const RelationInfo *info) {
    if (pg_class_aclcheck(RelationGetRelid(rel), GetUserId(), ACL_SELECT) == ACLCHECK_OK) return;
    for (int i = 0; i < info->ncolumns; i++) require_column(rel, info->columns[i].attnum);
    for (int i = 0; i < info->nkeys; i++) require_column(rel, info->keys[i].attnum);
}

Relation snapshot_table_open(Oid relid) {
    snapshot_check_table_access(relid);
    Relation rel = table_open(relid, AccessShareLock);
    snapshot_check_table_access(relid);
    return rel;
}
