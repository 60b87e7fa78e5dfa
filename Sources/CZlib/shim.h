#ifndef CZLIB_SHIM_H
#define CZLIB_SHIM_H
// zlib (Debian's zlib1g-dev): the tests read the gzip answers back with it, a decoder independent
// of the encoder (ISA-L). The functions are called directly; only the inflateInit2 macro needs a
// wrapper. Every symbol defined here carries the CZlib_ prefix.
#include <zlib.h>

/// inflateInit2 (a macro) accepting gzip framing.
static inline int CZlib_inflate_init_gzip(z_stream *stream) {
    return inflateInit2(stream, 15 + 16);
}

#endif
