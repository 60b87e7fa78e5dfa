#ifndef CISAL_SHIM_H
#define CISAL_SHIM_H
// ISA-L's igzip (Debian's libisal-dev): gzip for the answers. isal_deflate is called directly;
// only the level buffer sizes (macro arithmetic Swift does not import) need a wrapper.
// Every symbol defined here carries the CIsal_ prefix.
#include <isa-l/igzip_lib.h>

/// Bytes of `level_buf` isal_deflate needs at `level` (0 ... 3; 0 needs none). Level 1 takes the
/// SMALL size (84 KB): on a 3.9 MB OpenMetrics answer it is as fast as the DEFAULT (276 KB) and
/// its output 1% smaller (its blocks are shorter, each with its own Huffman codes).
static inline uint32_t CIsal_level_buf_size(uint32_t level) {
    switch (level) {
    case 0: return ISAL_DEF_LVL0_DEFAULT;
    case 1: return ISAL_DEF_LVL1_SMALL;
    case 2: return ISAL_DEF_LVL2_DEFAULT;
    case 3: return ISAL_DEF_LVL3_DEFAULT;
    default: return 0;
    }
}

#endif
