#ifndef CMICROHTTPD_SHIM_H
#define CMICROHTTPD_SHIM_H
// Fixed-arity wrappers around the C-variadic and macro parts of libmicrohttpd, which Swift cannot
// call directly. Every symbol defined here carries the CMicroHTTPD_ prefix.
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stddef.h>
#include <string.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <netdb.h>
#include <netinet/in.h>
#include <microhttpd.h>

// MARK: - libmicrohttpd

// libmicrohttpd 0.9.71 changed the callback return type from int to enum MHD_Result.
#if MHD_VERSION >= 0x00097002
typedef enum MHD_Result CMicroHTTPD_Result;
#else
typedef int CMicroHTTPD_Result;
#endif
static const int CMicroHTTPD_YES = MHD_YES;
static const int CMicroHTTPD_NO = MHD_NO;

/// A message logger that does not see a va_list.
typedef void (*CMicroHTTPD_LogFunction)(void *context, const char *message);

/// The access handler, with an `int` result whatever the library version.
typedef int (*CMicroHTTPD_AccessHandler)(void *cls, struct MHD_Connection *connection,
                                          const char *url, const char *method,
                                          const char *version, const char *upload_data,
                                          size_t *upload_data_size, void **req_cls);

/// The options `CMicroHTTPD_start_daemon` understands; zero (or NULL) leaves the library default.
typedef struct CMicroHTTPD_Options {
    unsigned int connection_limit;
    unsigned int per_ip_connection_limit;
    unsigned int connection_timeout_seconds;
    size_t connection_memory_limit;
    unsigned int thread_pool_size;
    unsigned int listen_backlog;
    const struct sockaddr *bind_address;      // sockaddr_in or sockaddr_in6
    const char *https_mem_key;                 // PEM, NUL-terminated
    const char *https_mem_cert;
    const char *https_mem_trust;               // CA for client certificates
    const char *https_priorities;              // GnuTLS priority string
    MHD_RequestCompletedCallback notify_completed;
    void *notify_completed_context;
    CMicroHTTPD_LogFunction log;
    void *log_context;
    CMicroHTTPD_AccessHandler handler;
    void *handler_context;
} CMicroHTTPD_Options;

static void CMicroHTTPD_log_trampoline(void *cls, const char *fmt, va_list ap) {
    const CMicroHTTPD_Options *options = (const CMicroHTTPD_Options *)cls;
    char buffer[1024];
    vsnprintf(buffer, sizeof buffer, fmt, ap);
    size_t n = strlen(buffer);
    while (n > 0 && (buffer[n - 1] == '\n' || buffer[n - 1] == '\r')) buffer[--n] = 0;
    if (options->log) options->log(options->log_context, buffer);
}

static CMicroHTTPD_Result CMicroHTTPD_access_trampoline(void *cls, struct MHD_Connection *connection,
                                                        const char *url, const char *method,
                                                        const char *version, const char *upload_data,
                                                        size_t *upload_data_size, void **req_cls) {
    const CMicroHTTPD_Options *options = (const CMicroHTTPD_Options *)cls;
    return options->handler(options->handler_context, connection, url, method, version,
                            upload_data, upload_data_size, req_cls) == MHD_YES ? MHD_YES : MHD_NO;
}

static inline int CMicroHTTPD_hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/// Percent-decoding of the URL (and query arguments) in place, like libmicrohttpd's own, except
/// that "%00" stays encoded: a decoded NUL would cut the C string, so "/metrics%00junk" would
/// be served as "/metrics".
static size_t CMicroHTTPD_unescape(void *cls, struct MHD_Connection *connection, char *value) {
    (void)cls; (void)connection;
    char *r = value, *w = value;
    while (*r) {
        if (r[0] == '%') {
            int high = CMicroHTTPD_hex(r[1]);
            int low = high >= 0 ? CMicroHTTPD_hex(r[2]) : -1;
            if (high >= 0 && low >= 0 && (high | low) != 0) {
                *w++ = (char)(high * 16 + low);
                r += 3;
                continue;
            }
        }
        *w++ = *r++;
    }
    *w = 0;
    return (size_t)(w - value);
}

/// MHD_start_daemon with a fixed arity. `options` must stay valid (and unchanged) until the
/// daemon is stopped: the trampolines read the callbacks from it.
static inline struct MHD_Daemon *CMicroHTTPD_start_daemon(unsigned int flags, uint16_t port,
                                                          const CMicroHTTPD_Options *options) {
    struct MHD_OptionItem items[20];
    int n = 0;
#define CMHD_ADD(opt, val, ptr) do { items[n].option = (opt); items[n].value = (intptr_t)(val); items[n].ptr_value = (void *)(ptr); n++; } while (0)
    if (options->connection_limit) CMHD_ADD(MHD_OPTION_CONNECTION_LIMIT, options->connection_limit, NULL);
    if (options->per_ip_connection_limit) CMHD_ADD(MHD_OPTION_PER_IP_CONNECTION_LIMIT, options->per_ip_connection_limit, NULL);
    if (options->connection_timeout_seconds) CMHD_ADD(MHD_OPTION_CONNECTION_TIMEOUT, options->connection_timeout_seconds, NULL);
    if (options->connection_memory_limit) CMHD_ADD(MHD_OPTION_CONNECTION_MEMORY_LIMIT, options->connection_memory_limit, NULL);
    if (options->thread_pool_size > 1) CMHD_ADD(MHD_OPTION_THREAD_POOL_SIZE, options->thread_pool_size, NULL);
    if (options->listen_backlog) CMHD_ADD(MHD_OPTION_LISTEN_BACKLOG_SIZE, options->listen_backlog, NULL);
    if (options->bind_address) CMHD_ADD(MHD_OPTION_SOCK_ADDR, 0, options->bind_address);
    if (options->https_mem_key) CMHD_ADD(MHD_OPTION_HTTPS_MEM_KEY, 0, options->https_mem_key);
    if (options->https_mem_cert) CMHD_ADD(MHD_OPTION_HTTPS_MEM_CERT, 0, options->https_mem_cert);
    if (options->https_mem_trust) CMHD_ADD(MHD_OPTION_HTTPS_MEM_TRUST, 0, options->https_mem_trust);
    if (options->https_priorities) CMHD_ADD(MHD_OPTION_HTTPS_PRIORITIES, 0, options->https_priorities);
    if (options->notify_completed) CMHD_ADD(MHD_OPTION_NOTIFY_COMPLETED, options->notify_completed, options->notify_completed_context);
    CMHD_ADD(MHD_OPTION_UNESCAPE_CALLBACK, CMicroHTTPD_unescape, NULL);
    CMHD_ADD(MHD_OPTION_END, 0, NULL);
#undef CMHD_ADD
    // The logger goes first, outside the array: libmicrohttpd warns on stderr ("is not the first
    // option") when any option precedes it, and logs to stderr until it has it.
    if (options->log)
        return MHD_start_daemon(flags, port, NULL, NULL, CMicroHTTPD_access_trampoline, (void *)options,
                                MHD_OPTION_EXTERNAL_LOGGER, CMicroHTTPD_log_trampoline, (void *)options,
                                MHD_OPTION_ARRAY, items, MHD_OPTION_END);
    return MHD_start_daemon(flags, port, NULL, NULL, CMicroHTTPD_access_trampoline, (void *)options,
                            MHD_OPTION_ARRAY, items, MHD_OPTION_END);
}

/// The port the daemon is bound to (useful after binding port 0), or 0.
static inline uint16_t CMicroHTTPD_bound_port(struct MHD_Daemon *daemon) {
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
    return info ? info->port : 0;
}

/// The number of open connections of the daemon.
static inline unsigned int CMicroHTTPD_current_connections(struct MHD_Daemon *daemon) {
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
    return info ? info->num_connections : 0;
}

/// The client's numeric address ("127.0.0.1", "::1") into `output`; 0 on success, -1 otherwise.
static inline int CMicroHTTPD_client_address(struct MHD_Connection *connection, char *output, size_t output_size) {
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (info == NULL || info->client_addr == NULL) return -1;
    const struct sockaddr *address = (const struct sockaddr *)info->client_addr;
    socklen_t length = address->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    return getnameinfo(address, length, output, (socklen_t)output_size, NULL, 0, NI_NUMERICHOST) == 0 ? 0 : -1;
}

/// A request header's value (NULL when absent).
static inline const char *CMicroHTTPD_request_header(struct MHD_Connection *connection, const char *name) {
    return MHD_lookup_connection_value(connection, MHD_HEADER_KIND, name);
}

/// A response whose body libmicrohttpd copies (so `data` may be freed at once).
static inline struct MHD_Response *CMicroHTTPD_response_copying(const void *data, size_t size) {
    return MHD_create_response_from_buffer(size, (void *)data, MHD_RESPMEM_MUST_COPY);
}

/// The size of a response whose length is not known in advance: sent chunked (HTTP/1.1) or
/// delimited by closing the connection (HTTP/1.0).
static const uint64_t CMicroHTTPD_SIZE_UNKNOWN = MHD_SIZE_UNKNOWN;
/// What a content reader returns at the end of the body, and when it cannot go on.
static const ssize_t CMicroHTTPD_READER_END_OF_STREAM = MHD_CONTENT_READER_END_OF_STREAM;
static const ssize_t CMicroHTTPD_READER_END_WITH_ERROR = MHD_CONTENT_READER_END_WITH_ERROR;

/// A response whose body `read(context, position, buffer, max)` produces as the socket drains
/// (`size` is CMicroHTTPD_SIZE_UNKNOWN when not known); `release(context)` is called when
/// libmicrohttpd no longer needs it. When creation fails (NULL), `release` is not called.
static inline struct MHD_Response *CMicroHTTPD_response_streamed(uint64_t size, size_t block_size,
                                                                 MHD_ContentReaderCallback read, void *context,
                                                                 MHD_ContentReaderFreeCallback release) {
    return MHD_create_response_from_callback(size, block_size, read, context, release);
}

/// MHD_queue_response with an int result.
static inline int CMicroHTTPD_queue_response(struct MHD_Connection *connection, unsigned int status, struct MHD_Response *response) {
    return MHD_queue_response(connection, status, response) == MHD_YES ? MHD_YES : MHD_NO;
}

/// The GnuTLS session (a gnutls_session_t) of a TLS connection, NULL for plain HTTP: for the
/// client certificate check (CGnuTLS_client_certificate).
static inline void *CMicroHTTPD_tls_session(struct MHD_Connection *connection) {
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    return info == NULL ? NULL : info->tls_session;
}

#endif
