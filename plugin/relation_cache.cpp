#include "relation_cache.h"

#include "column_default.h"
#include "connect_schema.h"
#include "json_writer.h"

namespace {

struct CacheSlot {
    Oid relid;  // hash key
    RelationInfo *info;
};

// Longer than any topic: topics are capped at 249 characters.
const int kTopicKeySize = 1024;

// Which relation a topic was given to in this session.
struct TopicOwner {
    char topic[kTopicKeySize];  // hash key
    Oid relid;                  // the cache entry that claimed it
    Oid published_relid;        // partitions published via their root share its topic
};

HTAB *g_cache = nullptr;   // relid -> RelationInfo, for the current decoding session
HTAB *g_topics = nullptr;  // topic -> TopicOwner
MemoryContext g_cache_context = nullptr;
const WalcastOptions *g_options = nullptr;
bool g_callbacks_registered = false;

// Marks entries for a rebuild on next use, from the catalog as of that WAL position.
// relid InvalidOid: all of them. Runs with no transaction: no catalog access here.
void invalidate_entries(Oid relid) {
    if (g_cache == nullptr) return;
    HASH_SEQ_STATUS status;
    hash_seq_init(&status, g_cache);
    CacheSlot *slot;
    while ((slot = (CacheSlot *)hash_seq_search(&status)) != nullptr) {
        if (slot->info &&
            (relid == InvalidOid || slot->relid == relid || slot->info->published_relid == relid))
            slot->info->valid = false;
    }
}

// Relcache invalidations arrive for DDL and for relcache rebuilds. A partition
// published via its root also takes the root's name: renaming the root reaches it.
void invalidate_relation(Datum, Oid relid) { invalidate_entries(relid); }

// A renamed schema (or any change to pg_namespace) renames the topics of its tables;
// such changes are rare, so every entry is rebuilt.
void invalidate_namespace(Datum, int, uint32) { invalidate_entries(InvalidOid); }

// schema.table quoted as SQL would: a."b.c" and "a.b".c differ only so.
const char *quoted_name(Oid relid) {
    return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
                                      get_rel_name(relid));
}

// Two included relations whose names map to one topic would mix their events there.
void claim_topic(const RelationInfo *info) {
    if (info->topic_len >= kTopicKeySize) elog(ERROR, "walcast topic too long: %s", info->topic);
    bool found;
    TopicOwner *owner = (TopicOwner *)hash_search(g_topics, info->topic, HASH_ENTER, &found);
    if (found && owner->published_relid != info->published_relid) {
        // The previous owner still holds the topic only if its current entry says so
        // (it may have been renamed or dropped since).
        CacheSlot *other = (CacheSlot *)hash_search(g_cache, &owner->relid, HASH_FIND, nullptr);
        if (other && other->info && other->info->valid && other->info->included &&
            strcmp(other->info->topic, info->topic) == 0)
            ereport(ERROR,
                    (errcode(ERRCODE_DUPLICATE_OBJECT),
                     errmsg("walcast: tables %s and %s both map to topic \"%s\"",
                            quoted_name(other->info->published_relid),
                            quoted_name(info->published_relid), info->topic),
                     errdetail("Kafka topic names allow only [a-zA-Z0-9._-]; other characters "
                               "become '_'. One topic would mix the events of both tables."),
                     errhint("Rename one of them, or leave one out with table.exclude.list "
                             "(which matches schema.table unquoted).")));
    }
    owner->relid = info->relid;
    owner->published_relid = info->published_relid;
}

bool is_topic_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

const char *render_name_json(const char *name, int *len) {
    StringInfoData buf;
    initStringInfo(&buf);
    json_write_cstring(&buf, name);
    appendStringInfoChar(&buf, ':');
    *len = buf.len;
    return buf.data;
}

void fill_column(ColumnInfo *col, Relation published, Form_pg_attribute published_attr,
                 AttrNumber leaf_attnum, const WalcastOptions *opts, MemoryContext context) {
    col->attnum = leaf_attnum;
    col->published_attnum = published_attr->attnum;
    col->name_json = render_name_json(NameStr(published_attr->attname), &col->name_json_len);
    col->is_key = false;
    type_encoder_init(&col->encoder, published_attr->atttypid, published_attr->atttypmod, context);
    col->default_json =
        column_default_json(published, published_attr, &col->encoder, opts, &col->default_json_len);
    col->null_json = column_null_json(published_attr, &col->encoder, opts, col->default_json,
                                      col->default_json_len, &col->null_json_len);
}

// Key columns: message.key.columns when it names the table (the columns that exist,
// in its order), else the primary key, else the replica identity index; none gives a
// null key.
List *key_attnums(Relation rel, const WalcastOptions *opts, const char *qualified) {
    List *named = walcast_message_key_columns(opts, qualified);
    if (named != NIL) {
        List *attnums = NIL;
        ListCell *cell;
        foreach (cell, named) {
            AttrNumber attnum = get_attnum(RelationGetRelid(rel), (const char *)lfirst(cell));
            if (attnum > 0 && !list_member_int(attnums, attnum))
                attnums = lappend_int(attnums, attnum);
        }
        if (attnums != NIL) return attnums;
    }
    Oid index_oid = WALCAST_PRIMARY_KEY_INDEX(rel);
    if (!OidIsValid(index_oid)) index_oid = RelationGetReplicaIndex(rel);
    if (!OidIsValid(index_oid)) return NIL;
    Relation index = RelationIdGetRelation(index_oid);
    List *attnums = NIL;
    for (int i = 0; i < index->rd_index->indnkeyatts; i++)
        attnums = lappend_int(attnums, index->rd_index->indkey.values[i]);
    RelationClose(index);
    return attnums;
}

AttrNumber leaf_attnum_of(Relation leaf, Relation published, Form_pg_attribute attr) {
    if (leaf == published) return attr->attnum;
    return get_attnum(RelationGetRelid(leaf), NameStr(attr->attname));
}

}  // namespace

void topic_append_mapped(StringInfo out, const char *name) {
    const int kMaxTopicLength = 249;
    int start = out->len;
    for (const char *p = name; *p && out->len - start < kMaxTopicLength; p++) {
        unsigned char c = (unsigned char)*p;
        // One '_' per UTF-16 code unit, as Java counts characters: skip UTF-8 continuation
        // bytes; a 4-byte sequence (outside the BMP) is a surrogate pair, two '_'.
        if ((c & 0xC0) == 0x80) continue;
        appendStringInfoCharMacro(out, is_topic_char(*p) ? *p : '_');
        if ((c & 0xF8) == 0xF0 && out->len - start < kMaxTopicLength)
            appendStringInfoCharMacro(out, '_');
    }
}

// Recognised by name when the entry is built: a rename or a schema rename invalidates
// the entry (the callbacks above), so the decision follows the catalog as of the change.
static void mark_signal_table(RelationInfo *info, Relation rel, const WalcastOptions *opts) {
    const char *schema = get_namespace_name(RelationGetNamespace(rel));
    const char *table = RelationGetRelationName(rel);
    char *qualified = psprintf("%s.%s", schema, table);
    info->is_signal_table =
        (strcmp(schema, "walcast") == 0 && strcmp(table, "signals") == 0) ||
        (opts->signal_data_collection && strcmp(qualified, opts->signal_data_collection) == 0);
    if (!info->is_signal_table) return;
    info->included = false;
    TupleDesc desc = RelationGetDescr(rel);
    for (int i = 0; i < desc->natts; i++) {
        Form_pg_attribute attr = TupleDescAttr(desc, i);
        if (attr->attisdropped) continue;
        const char *name = NameStr(attr->attname);
        if (strcmp(name, "id") == 0) info->signal_id_attnum = attr->attnum;
        if (strcmp(name, "type") == 0) info->signal_type_attnum = attr->attnum;
        if (strcmp(name, "data") == 0) info->signal_data_attnum = attr->attnum;
    }
}

RelationInfo *relation_info_build(Relation rel, const WalcastOptions *opts, MemoryContext parent) {
    MemoryContext context = AllocSetContextCreate(parent, "walcast relation", ALLOCSET_SMALL_SIZES);
    MemoryContext old = MemoryContextSwitchTo(context);

    RelationInfo *info = (RelationInfo *)palloc0(sizeof(RelationInfo));
    info->relid = RelationGetRelid(rel);
    info->published_relid = info->relid;
    info->context = context;
    info->replica_identity = rel->rd_rel->relreplident;

    // With publish.via.partition.root, a leaf's changes are named and shaped as the root's.
    Relation published = rel;
    if (opts->via_partition_root && rel->rd_rel->relispartition) {
        List *ancestors = get_partition_ancestors(RelationGetRelid(rel));
        published = RelationIdGetRelation(llast_oid(ancestors));
        info->published_relid = RelationGetRelid(published);
    }

    const char *schema = get_namespace_name(RelationGetNamespace(published));
    const char *table = RelationGetRelationName(published);
    char *qualified = psprintf("%s.%s", schema, table);
    info->data_collection = qualified;
    // walcast's own bookkeeping tables never become events.
    bool own_table = strcmp(schema, "walcast") == 0;
    info->included = !own_table &&
                     (opts->schema_include == nullptr ||
                      walcast_regex_match(opts->schema_include, schema, strlen(schema))) &&
                     !walcast_regex_match(opts->schema_exclude, schema, strlen(schema)) &&
                     (opts->table_include == nullptr ||
                      walcast_regex_match(opts->table_include, qualified, strlen(qualified))) &&
                     !walcast_regex_match(opts->table_exclude, qualified, strlen(qualified));

    mark_signal_table(info, rel, opts);

    StringInfoData buf;
    initStringInfo(&buf);
    // Mapped and capped as a whole, as Debezium's sanitizedTopicName does.
    topic_append_mapped(&buf, psprintf("%s.%s", opts->topic_prefix, qualified));
    info->topic = buf.data;
    info->topic_len = buf.len;

    initStringInfo(&buf);
    JSON_LITERAL(&buf, "\"schema\":");
    json_write_cstring(&buf, schema);
    JSON_LITERAL(&buf, ",\"table\":");
    json_write_cstring(&buf, table);
    appendStringInfoChar(&buf, ',');
    info->source_names = buf.data;
    info->source_names_len = buf.len;

    TupleDesc desc = RelationGetDescr(published);
    List *keys = key_attnums(published, opts, qualified);
    info->columns = (ColumnInfo *)palloc0(sizeof(ColumnInfo) * Max(desc->natts, 1));
    info->keys = (ColumnInfo *)palloc0(sizeof(ColumnInfo) * Max(list_length(keys), 1));
    for (int i = 0; i < desc->natts; i++) {
        Form_pg_attribute attr = TupleDescAttr(desc, i);
        if (attr->attisdropped || attr->attnum <= 0) continue;
        char *column_name = psprintf("%s.%s", qualified, NameStr(attr->attname));
        if ((opts->column_include != nullptr &&
             !walcast_regex_match(opts->column_include, column_name, strlen(column_name))) ||
            walcast_regex_match(opts->column_exclude, column_name, strlen(column_name)))
            continue;
        ColumnInfo *col = &info->columns[info->ncolumns++];
        fill_column(col, published, attr, leaf_attnum_of(rel, published, attr), opts, context);
        col->is_key = list_member_int(keys, attr->attnum);
    }
    ListCell *cell;
    foreach (cell, keys) {
        Form_pg_attribute attr = TupleDescAttr(desc, lfirst_int(cell) - 1);
        fill_column(&info->keys[info->nkeys++], published, attr,
                    leaf_attnum_of(rel, published, attr), opts, context);
    }

    // Also for excluded relations: walcast.snapshot_rows reads any table it is given.
    if (opts->schemas) connect_schema_build(info, published, opts);

    if (published != rel) RelationClose(published);
    info->valid = true;
    MemoryContextSwitchTo(old);
    return info;
}

void relation_cache_init(MemoryContext parent, const WalcastOptions *opts) {
    g_cache_context =
        AllocSetContextCreate(parent, "walcast relation cache", ALLOCSET_DEFAULT_SIZES);
    // A decoding context freed by an error (no shutdown callback) takes the cache with it.
    MemoryContextCallback *forget =
        (MemoryContextCallback *)MemoryContextAlloc(g_cache_context, sizeof(*forget));
    forget->func = [](void *context) {
        if (g_cache_context == context) relation_cache_reset();
    };
    forget->arg = g_cache_context;
    MemoryContextRegisterResetCallback(g_cache_context, forget);
    HASHCTL ctl;
    memset(&ctl, 0, sizeof(ctl));
    ctl.keysize = sizeof(Oid);
    ctl.entrysize = sizeof(CacheSlot);
    ctl.hcxt = g_cache_context;
    g_cache = hash_create("walcast relations", 128, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
    memset(&ctl, 0, sizeof(ctl));
    ctl.keysize = kTopicKeySize;
    ctl.entrysize = sizeof(TopicOwner);
    ctl.hcxt = g_cache_context;
    g_topics = hash_create("walcast topics", 128, &ctl, HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
    g_options = opts;
    // Callbacks cannot be unregistered: once per backend, and they check g_cache.
    if (!g_callbacks_registered) {
        CacheRegisterRelcacheCallback(invalidate_relation, (Datum)0);
        CacheRegisterSyscacheCallback(NAMESPACEOID, invalidate_namespace, (Datum)0);
        g_callbacks_registered = true;
    }
}

void relation_cache_reset() {
    // The contexts die with the decoding context; only forget the pointers.
    g_cache = nullptr;
    g_topics = nullptr;
    g_cache_context = nullptr;
    g_options = nullptr;
}

RelationInfo *relation_cache_get(Relation rel) {
    Oid relid = RelationGetRelid(rel);
    bool found;
    CacheSlot *slot = (CacheSlot *)hash_search(g_cache, &relid, HASH_ENTER, &found);
    if (!found) slot->info = nullptr;
    if (slot->info && slot->info->valid) return slot->info;
    if (slot->info) MemoryContextDelete(slot->info->context);
    slot->info = nullptr;  // stays empty if the build below raises an error
    RelationInfo *info = relation_info_build(rel, g_options, g_cache_context);
    if (info->included) claim_topic(info);
    slot->info = info;
    return info;
}
