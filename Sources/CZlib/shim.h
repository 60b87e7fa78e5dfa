#ifndef CZLIB_SHIM_H
#define CZLIB_SHIM_H
// zlib (Debian's zlib1g-dev): gzip for the answers (and, in tests, to read them back). The
// functions are called directly; only the *Init2 macros need a wrapper.
// Every symbol defined here carries the CZlib_ prefix.
#include <zlib.h>

/// deflateInit2 (a macro) for gzip framing: windowBits 15 + 16.
static inline int CZlib_deflate_init_gzip(z_stream *stream, int level) {
    return deflateInit2(stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
}

/// inflateInit2 (a macro) accepting gzip framing; used by tests.
static inline int CZlib_inflate_init_gzip(z_stream *stream) {
    return inflateInit2(stream, 15 + 16);
}

#endif
