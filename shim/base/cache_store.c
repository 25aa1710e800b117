/* cache_store: see cache_store.h. */
#define _GNU_SOURCE
#include "cache_store.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exe_memory.h"
#include "log.h"

#ifndef OCPREEMPT_VERSION
#define OCPREEMPT_VERSION "unknown"
#endif

#define KEY_MAX 16384
#define SUFFIX ".oac"

static enum cache_status status = CACHE_UNTRIED;
static char why_text[320];
static char folder[PATH_MAX];
static char file_path[PATH_MAX + 32];
static char key[KEY_MAX];
static size_t key_len;

static void set_status(enum cache_status s, const char *why)
{
    status = s;
    /* cut to the buffer: a long reason is still one line */
    size_t n = why ? strlen(why) : 0;
    if (n >= sizeof why_text)
        n = sizeof why_text - 1;
    memcpy(why_text, why ? why : "", n);
    why_text[n] = '\0';
}

static int append_key(const char *fmt, const char *a, unsigned long long x)
{
    int n = snprintf(key + key_len, sizeof key - key_len, fmt, a, x);
    if (n < 0 || (size_t)n >= sizeof key - key_len)
        return -1;
    key_len += (size_t)n;
    return 0;
}

static void hex(const uint8_t *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", b[i]);
    out[2 * n] = '\0';
}

static int file_identity(const char *what, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return -1;
    char line[256];
    snprintf(line, sizeof line, "%%s size=%lld mtime=%lld.%09ld ino=%llu dev=%llu\n",
             (long long)st.st_size, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
             (unsigned long long)st.st_ino, (unsigned long long)st.st_dev);
    return append_key(line, what, 0);
}

static int object_identity(const char *what, const void *containing)
{
    struct exe_memory m;
    char id[2 * BUILD_ID_MAX + 1] = "none";
    if (exe_memory_load(&m, containing) == 0 && m.build_id_len)
        hex(m.build_id, m.build_id_len, id);
    char line[64 + sizeof id];
    snprintf(line, sizeof line, "%%s build-id=%s ", id);
    return append_key(line, what, 0);
}

/* The engine's own file, found from one of its functions. */
static int engine_identity(void)
{
    Dl_info info;
    if (object_identity("engine " OCPREEMPT_VERSION, (const void *)cache_store_open) != 0 ||
        dladdr((const void *)cache_store_open, &info) == 0 || !info.dli_fname)
        return -1;
    return file_identity("", info.dli_fname);
}

static int configuration_key(const struct ocpreempt_config *cfg)
{
    char value[PATH_MAX + 64];
    for (size_t i = 0; i < config_option_count(); i++) {
        const struct config_option_doc *d = config_option_doc(i);
        if (d->analysis_free)
            continue;
        if (config_format_option(cfg, i, value, sizeof value) != 0)
            return -1;
        if (append_key("%s=", d->name, 0) != 0 || append_key("%s\n", value, 0) != 0)
            return -1;
    }
    return 0;
}

/* 64-bit FNV-1a of the identity part of the key: the file name. */
static void name_of(const char *k, size_t n, char out[17])
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)k[i]) * 0x100000001b3ull;
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

static int choose_folder(const struct ocpreempt_config *cfg)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    int n;
    if (cfg->analysis_cache[0])
        n = snprintf(folder, sizeof folder, "%s", cfg->analysis_cache);
    else if (xdg && xdg[0] == '/')          /* the XDG spec ignores relative paths */
        n = snprintf(folder, sizeof folder, "%s/ocpreempt/analysis", xdg);
    else if (home && home[0] == '/')
        n = snprintf(folder, sizeof folder, "%s/.cache/ocpreempt/analysis", home);
    else {
        set_status(CACHE_UNUSABLE, "no cache folder: HOME is not set");
        return -1;
    }
    if (n < 0 || (size_t)n >= sizeof folder - 64) {
        set_status(CACHE_UNUSABLE, "the cache folder's path is too long");
        return -1;
    }
    return 0;
}

int cache_store_open(const struct ocpreempt_config *cfg)
{
    if (strcmp(cfg->analysis_cache, "off") == 0) {
        set_status(CACHE_OFF, NULL);
        return -1;
    }
    if (choose_folder(cfg) != 0)
        return -1;
    key_len = 0;
    if (object_identity("exe", NULL) != 0 || file_identity("", "/proc/self/exe") != 0 ||
        engine_identity() != 0) {
        set_status(CACHE_UNUSABLE, "cannot identify the executable or the engine");
        return -1;
    }
    char name[17];
    name_of(key, key_len, name);
    if (configuration_key(cfg) != 0) {
        set_status(CACHE_UNUSABLE, "the configuration does not fit the key");
        return -1;
    }
    snprintf(file_path, sizeof file_path, "%s/%s" SUFFIX, folder, name);
    return 0;
}

const char *cache_store_key(size_t *len)
{
    *len = key_len;
    return key;
}

static void miss(const char *why)
{
    set_status(CACHE_UNUSABLE, why);
    log_debug("analysis cache %s: %s; analysing", file_path, why);
}

int cache_store_read(struct cache_view *view)
{
    int fd = open(file_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT) {
            set_status(CACHE_UNUSABLE, "no file yet");
            log_debug("analysis cache %s: none yet; analysing", file_path);
        } else {
            char why[128];
            snprintf(why, sizeof why, "cannot open: %s", strerror(errno));
            miss(why);
        }
        return -1;
    }
    struct stat st;
    void *map = MAP_FAILED;
    const char *why = NULL;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        why = "not a regular file";
    else if (st.st_uid != geteuid() || (st.st_mode & 022))
        why = "not owned by this user, or writable by others";
    else if (st.st_size <= 0 || (unsigned long long)st.st_size > CACHE_FILE_MAX)
        why = "empty or too large";
    else if ((map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED)
        why = "cannot map it";
    close(fd);
    /* A private read-only mapping: a writer renames a new file over this one, never
       writes into it, so these bytes do not change under the checks. */
    char parse_why[160];
    if (!why && cache_file_parse(map, (size_t)st.st_size, key, key_len, true, view, parse_why,
                                 sizeof parse_why) != 0)
        why = parse_why;
    if (why) {
        if (map != MAP_FAILED)
            munmap(map, (size_t)st.st_size);
        miss(why);
        return -1;
    }
    return 0;                         /* mapped for good: restored names point into it */
}

void cache_store_refused(const char *why)
{
    char text[sizeof why_text];
    snprintf(text, sizeof text, "refused: %s", why);
    miss(text);
}

void cache_store_hit(void)
{
    set_status(CACHE_HIT, NULL);
    log_debug("analysis cache %s: hit", file_path);
}

static int make_folders(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int rc = mkdir(path, 0700);
        *p = '/';
        if (rc != 0 && errno != EEXIST)
            return -1;
    }
    return mkdir(path, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

/* Keeps the folder at CACHE_FOLDER_FILES files: removes the oldest of ours. */
static void trim_folder(void)
{
    DIR *d = opendir(folder);
    if (!d)
        return;
    for (;;) {
        size_t count = 0;
        char oldest[256] = "";
        struct timespec oldest_at = { 0, 0 };
        struct dirent *e;
        rewinddir(d);
        while ((e = readdir(d)) != NULL) {
            size_t n = strlen(e->d_name);
            struct stat st;
            if (n < sizeof SUFFIX || strcmp(e->d_name + n - 4, SUFFIX) != 0 ||
                fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
                continue;
            count++;
            if (!oldest[0] || st.st_mtim.tv_sec < oldest_at.tv_sec ||
                (st.st_mtim.tv_sec == oldest_at.tv_sec && st.st_mtim.tv_nsec < oldest_at.tv_nsec)) {
                snprintf(oldest, sizeof oldest, "%s", e->d_name);
                oldest_at = st.st_mtim;
            }
        }
        if (count <= CACHE_FOLDER_FILES || !oldest[0] || unlinkat(dirfd(d), oldest, 0) != 0)
            break;
    }
    closedir(d);
}

void cache_store_write(const struct cache_builder *b)
{
    static unsigned serial;
    char tmp[sizeof file_path + 64];
    const char *why = NULL;
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld.%u", file_path, (long)getpid(), serial++);
    if (make_folders(folder) != 0) {
        why = "cannot create the folder";
    } else {
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        size_t done = 0;
        if (fd < 0)
            why = "cannot create a file in the folder";
        while (fd >= 0 && !why && done < b->len) {
            ssize_t w = write(fd, b->buf + done, b->len - done);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                why = "write failed";
            else
                done += (size_t)w;
        }
        if (fd >= 0 && close(fd) != 0 && !why)
            why = "write failed";
        if (fd >= 0 && !why && rename(tmp, file_path) != 0)
            why = "rename failed";
        if (fd >= 0 && why)
            unlink(tmp);
    }
    if (why) {
        char text[sizeof why_text + 160];
        snprintf(text, sizeof text, "%s%s%s (%s)", why_text[0] ? why_text : "",
                 why_text[0] ? "; not written: " : "not written: ", why, strerror(errno));
        set_status(CACHE_UNUSABLE, text);
        log_debug("analysis cache %s: %s", file_path, text);
        return;
    }
    char text[sizeof why_text + 32];
    snprintf(text, sizeof text, "%s%s", why_text[0] && strcmp(why_text, "no file yet")
                                            ? "replaced a file: " : "",
             strcmp(why_text, "no file yet") ? why_text : "");
    set_status(CACHE_WRITTEN, text);
    log_debug("analysis cache %s: written (%zu bytes)", file_path, b->len);
    trim_folder();
}

enum cache_status cache_store_status(void) { return status; }

const char *cache_store_status_name(enum cache_status s)
{
    switch (s) {
    case CACHE_UNTRIED: return "untried";
    case CACHE_OFF: return "off";
    case CACHE_HIT: return "hit";
    case CACHE_WRITTEN: return "written";
    case CACHE_UNUSABLE: return "unusable";
    }
    return "?";
}

const char *cache_store_why(void) { return why_text; }
const char *cache_store_path(void) { return file_path; }
