// The iteration order of a java.util.HashMap<String, ...>, for the JSON Debezium writes by
// iterating one (hstore values, transaction metadata's data_collections).
#pragma once

#include "pg.h"

// java.lang.String.hashCode over the UTF-16 code units of a UTF-8 string, spread as
// HashMap.hash() does.
uint32 java_hashmap_hash(const char *s, int len);

// The table size of a HashMap (default capacity 16, load factor 0.75) after n puts.
uint32 java_hashmap_capacity(int n);

// An entry's bucket: iteration goes by bucket, then insertion order within a bucket.
inline uint32 java_hashmap_bucket(uint32 hash, uint32 capacity) { return hash & (capacity - 1); }
