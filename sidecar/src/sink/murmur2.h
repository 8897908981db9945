// Kafka's Java-client key hashing, so walcast places a key in the same
// partition a Java producer (or Debezium) would.
#pragma once

#include <cstdint>
#include <string_view>

namespace walcast {

// org.apache.kafka.common.utils.Utils.murmur2: MurmurHash2, seed 0x9747b28c,
// little-endian 4-byte blocks. Returned as Java's signed int.
std::int32_t murmur2(std::string_view data);

// Utils.toPositive: clears the sign bit (not abs(), which overflows on INT_MIN).
inline std::int32_t to_positive(std::int32_t n) {
    return static_cast<std::int32_t>(static_cast<std::uint32_t>(n) & 0x7fffffffu);
}

// The Java default partitioner for a non-null key:
// toPositive(murmur2(keyBytes)) % numPartitions. num_partitions must be > 0.
inline std::int32_t java_partition(std::string_view key, std::int32_t num_partitions) {
    return to_positive(murmur2(key)) % num_partitions;
}

}  // namespace walcast
