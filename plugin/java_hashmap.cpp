#include "java_hashmap.h"

uint32 java_hashmap_hash(const char *s, int len) {
    uint32 h = 0;
    for (int i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        uint32 cp;
        int n;
        if (c < 0x80) {
            cp = c;
            n = 1;
        } else if ((c & 0xE0) == 0xC0) {
            cp = c & 0x1F;
            n = 2;
        } else if ((c & 0xF0) == 0xE0) {
            cp = c & 0x0F;
            n = 3;
        } else {
            cp = c & 0x07;
            n = 4;
        }
        for (int k = 1; k < n && i + k < len; k++)
            cp = (cp << 6) | ((unsigned char)s[i + k] & 0x3F);
        i += n;
        if (cp >= 0x10000) {
            cp -= 0x10000;
            h = 31 * h + (0xD800 + (cp >> 10));
            h = 31 * h + (0xDC00 + (cp & 0x3FF));
        } else {
            h = 31 * h + cp;
        }
    }
    return h ^ (h >> 16);
}

uint32 java_hashmap_capacity(int n) {
    uint32 table = 16;
    while ((uint32)n > table / 4 * 3) table *= 2;
    return table;
}
