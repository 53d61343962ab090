/* llm/curl_api.c - libcurl through dlopen(); see curl_api.h. */
#include "llm/curl_api.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct llm_curl_api llm_curl;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static char load_error[FM_ERR_LEN];

/* The library's file name (the SONAME); FM_LIBCURL overrides it, for a libcurl elsewhere. */
#define LIBCURL "libcurl.so.4"

/* dlsym() returns an object pointer; POSIX guarantees that it converts to the function's
 * pointer type, which ISO C leaves undefined, so the copy goes through memcpy. */
static int bind_fn(void *lib, const char *name, void *fp, size_t size)
{
    void *sym = dlsym(lib, name);
    if (!sym) {
        snprintf(load_error, sizeof(load_error), "libcurl has no %s: install libcurl 7.66 or newer",
                 name);
        return -1;
    }
    memcpy(fp, &sym, size);
    return 0;
}

#define BIND(field, name) bind_fn(lib, name, &llm_curl.field, sizeof(llm_curl.field))

static void load(void)
{
    const char *file = getenv("FM_LIBCURL");
    if (!file || !*file)
        file = LIBCURL;
    void *lib = dlopen(file, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        snprintf(load_error, sizeof(load_error),
                 "cannot load libcurl (%s): install it (Debian: apt-get install libcurl4)", file);
        return;
    }
    if (BIND(global_init, "curl_global_init") || BIND(easy_init, "curl_easy_init") ||
        BIND(easy_setopt, "curl_easy_setopt") || BIND(easy_getinfo, "curl_easy_getinfo") ||
        BIND(easy_reset, "curl_easy_reset") || BIND(easy_cleanup, "curl_easy_cleanup") ||
        BIND(easy_strerror, "curl_easy_strerror") || BIND(slist_append, "curl_slist_append") ||
        BIND(slist_free_all, "curl_slist_free_all") || BIND(multi_init, "curl_multi_init") ||
        BIND(multi_add_handle, "curl_multi_add_handle") ||
        BIND(multi_remove_handle, "curl_multi_remove_handle") ||
        BIND(multi_perform, "curl_multi_perform") || BIND(multi_poll, "curl_multi_poll") ||
        BIND(multi_info_read, "curl_multi_info_read") ||
        BIND(multi_cleanup, "curl_multi_cleanup") || BIND(url, "curl_url") ||
        BIND(url_set, "curl_url_set") || BIND(url_get, "curl_url_get") ||
        BIND(url_cleanup, "curl_url_cleanup") || BIND(free, "curl_free"))
        return; /* the library stays loaded: nothing else would use it */
    CURLcode rc = llm_curl.global_init(CURL_GLOBAL_DEFAULT);
    if (rc != CURLE_OK)
        snprintf(load_error, sizeof(load_error), "cannot initialise libcurl: %s",
                 llm_curl.easy_strerror(rc));
}

int llm_curl_load(struct fm_err *err)
{
    pthread_once(&load_once, load);
    if (load_error[0])
        return fm_err_set(err, FM_ENET, "%s", load_error);
    return FM_OK;
}
