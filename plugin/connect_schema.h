// Kafka Connect schemas of walcast's events, as Debezium's PostgreSQL connector declares
// them and Kafka's JsonConverter (schemas.enable=true) prints them: node order type,
// fields/items/keys/values, optional, name, version, doc, parameters, default, field.
// Built once per relation version (relation cache), never per event.
#pragma once

#include "pg.h"
#include "options.h"

struct RelationInfo;

// Fills info->key_schema (nullptr for a relation without key) and info->value_schema
// (the envelope) for the relation whose name and shape the events carry. Catalog access
// (defaults, enum labels) happens here, in the caller's transaction.
void connect_schema_build(RelationInfo *info, Relation published, const WalcastOptions *opts);

// Schemas of logical message events (<prefix>.message), for the given options.
const char *connect_schema_message_key();
const char *connect_schema_message_value(const WalcastOptions *opts);

// Schema of transaction BEGIN/END records (io.debezium.connector.common.
// TransactionMetadataValue); format=json wraps them with it.
const char *connect_schema_transaction_value();

// `R\t<topic>\t<key schema>\t<value schema>`: announces the schemas of a topic to the
// sidecar before its first event (docs/framing.md).
void connect_schema_write_frame(StringInfo out, const char *topic, int topic_len,
                                const char *key_schema, const char *value_schema);

// {"schema":<schema>,"payload": ... } around a value written by the caller (format=json).
void connect_schema_wrap_begin(StringInfo out, const char *schema);
void connect_schema_wrap_end(StringInfo out);
