#ifndef CCONNECTOR_ZLIB_SHIM_H
#define CCONNECTOR_ZLIB_SHIM_H
#include <zlib.h>

/* deflateInit2 and inflateInit2 are macros (they pass the library version and the stream's size);
   Swift cannot call macros, so they are wrapped. windowBits -15: a raw deflate stream (no zlib
   header or trailer), as the zip format stores it. */
static inline int cconnector_deflate_init_raw(z_stream *stream, int level) {
    return deflateInit2(stream, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
}

static inline int cconnector_inflate_init_raw(z_stream *stream) {
    return inflateInit2(stream, -15);
}
#endif
