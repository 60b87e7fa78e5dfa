#ifndef CCRYPT_SHIM_H
#define CCRYPT_SHIM_H
// libxcrypt (Debian's libcrypt-dev): bcrypt for basic auth. The wrappers keep the 32 KiB work
// area off the caller's stack and wipe it. Every symbol defined here carries the CCrypt_ prefix.
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <crypt.h>

/// Hashes `phrase` with the hash method and salt in `setting` (for bcrypt, a full "$2y$..." hash
/// works as a setting) into `output`. Returns 0 on success, -1 on failure (unknown method, bad
/// setting, output too small). The 32 KiB work area is on the heap, so it is thread-safe.
static inline int CCrypt_crypt(const char *phrase, const char *setting, char *output, size_t output_size) {
    struct crypt_data *data = calloc(1, sizeof(struct crypt_data));
    if (data == NULL) return -1;
    int result = -1;
    const char *hashed = crypt_rn(phrase, setting, data, (int)sizeof(struct crypt_data));
    if (hashed != NULL && hashed[0] != '*' && strlen(hashed) < output_size) {
        strcpy(output, hashed);
        result = 0;
    }
    explicit_bzero(data, sizeof(struct crypt_data));
    free(data);
    return result;
}

/// A fresh bcrypt setting ("$2b$NN$salt") with `cost` rounds from the OS random source, or -1.
static inline int CCrypt_bcrypt_setting(unsigned long cost, char *output, size_t output_size) {
    char buffer[CRYPT_GENSALT_OUTPUT_SIZE];
    if (crypt_gensalt_rn("$2b$", cost, NULL, 0, buffer, (int)sizeof buffer) == NULL) return -1;
    if (strlen(buffer) >= output_size) return -1;
    strcpy(output, buffer);
    return 0;
}

#endif
